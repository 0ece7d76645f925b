import { HttpError, InvalidResponseError } from "@daemon-auth/core";

/** A user as `GET /v1.0/users` lists it (the fields this sample selects). */
export interface GraphUser {
  readonly id: string;
  readonly displayName: string;
  readonly userPrincipalName: string;
}

/** One page of users, in the order Graph returned them. */
export interface UsersPage {
  /** 1 for the first page. */
  readonly number: number;
  readonly users: readonly GraphUser[];
}

/** A `fetch` that adds the daemon's token, such as `createApiFetch` returns. */
export type ApiFetch = (url: string) => Promise<Response>;

/**
 * The users of the tenant, page by page: `GET {graphUrl}/v1.0/users`, then each
 * `@odata.nextLink` until Graph returns none. A next link outside `graphUrl`'s origin
 * is refused, so the token is never sent elsewhere.
 *
 * @param pageSize - `$top`; Graph's own page size (100) when left out.
 * @throws {HttpError} when Graph answers anything but 200; {@link InvalidResponseError} when a page is malformed.
 * @throws {ConsentRequiredError} (from `createApiFetch`) when the app lacks `User.Read.All`.
 *
 * @see https://learn.microsoft.com/graph/paging
 */
export async function* listUsers(api: ApiFetch, graphUrl: string, pageSize?: number): AsyncGenerator<UsersPage> {
  const first = new URL(`${graphUrl}/v1.0/users`);
  first.searchParams.set("$select", "id,displayName,userPrincipalName");
  if (pageSize !== undefined) first.searchParams.set("$top", String(pageSize));
  let url: string | undefined = first.href;
  for (let number = 1; url !== undefined; number++) {
    const response = await api(url);
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status !== 200) {
      throw new HttpError(`GET ${withoutQuery(url)} answered ${response.status}${graphErrorOf(body)}.`, { status: response.status });
    }
    const page = usersPageOf(body, url);
    yield { number, users: page.users };
    url = page.nextLink;
    if (url !== undefined && new URL(url).origin !== first.origin) {
      throw new InvalidResponseError(`Graph's @odata.nextLink leads to ${new URL(url).origin}, outside ${first.origin}; stopped so the token is not sent there.`);
    }
  }
}

function usersPageOf(body: unknown, url: string): { users: GraphUser[]; nextLink: string | undefined } {
  const page = body as { value?: unknown; "@odata.nextLink"?: unknown } | undefined;
  const nextLink = page?.["@odata.nextLink"];
  if (!Array.isArray(page?.value) || !page.value.every(isUser) || (nextLink !== undefined && typeof nextLink !== "string")) {
    throw new InvalidResponseError(`GET ${withoutQuery(url)} did not return a users page ({ value: [{ id, displayName, userPrincipalName }], "@odata.nextLink"? }).`);
  }
  return { users: page.value.map(({ id, displayName, userPrincipalName }) => ({ id, displayName, userPrincipalName })), nextLink };
}

function isUser(value: unknown): value is GraphUser {
  const user = value as Partial<Record<keyof GraphUser, unknown>> | null;
  return typeof user?.id === "string" && typeof user.displayName === "string" && typeof user.userPrincipalName === "string";
}

/** ` (code: message)` from Graph's error shape, or nothing. */
function graphErrorOf(body: unknown): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof error?.code === "string" ? ` (${error.code}: ${typeof error.message === "string" ? error.message : ""})` : "";
}

function withoutQuery(url: string): string {
  return url.split("?")[0] ?? url;
}

import { ConfigurationError, readBodyUpTo } from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import type { Dispatcher } from "undici";
import { ApiAuth, CONSENT_BODY_LIMIT, isJson, isReplayableBody, type ApiAuthOptions } from "./lib/api-auth.js";

/** A `fetch`-shaped function. */
export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Options of {@link createApiFetch}. */
export interface ApiFetchOptions extends ApiAuthOptions {
  /**
   * The `fetch` that sends the requests.
   * @default the global `fetch`
   */
  fetch?: FetchFunction;
  /**
   * An undici dispatcher for the requests (passed to `fetch` as `init.dispatcher`), e.g.
   * `transport.dispatcher` to share the token transport's pool and proxy settings.
   * @default the fetch's own (global) dispatcher
   */
  dispatcher?: Dispatcher;
}

/**
 * Calls a web API as the daemon: a `fetch` that adds `Authorization: Bearer <token>`
 * for the configured scopes (tokens come from the client's cache), and:
 *
 * - on **401** with a Bearer `claims` challenge (`error="insufficient_claims"`), acquires
 *   a token with those claims and retries once; on any other 401, retries once with a
 *   freshly acquired token. The second answer is returned as is.
 * - on **403** meaning that an application permission lacks admin consent (Microsoft
 *   Graph's `Authorization_RequestDenied`, or `error="insufficient_scope"`), rejects with
 *   a {@link ConsentRequiredError} carrying the admin consent URL.
 * - never retries a request whose body cannot be sent twice (`ReadableStream`, async
 *   iterables); strings, `URLSearchParams`, bytes, `Blob` and `FormData` can.
 *
 * @throws {InvalidResponseError} (rejects) when a 401 carries malformed claims.
 * @throws {ConsentRequiredError} (rejects) when a 403 says admin consent is missing.
 *
 * @example
 * const api = createApiFetch({ client, scopes: ["https://graph.microsoft.com/.default"], origins: ["https://graph.microsoft.com"] });
 * const users = await (await api("https://graph.microsoft.com/v1.0/users")).json();
 *
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function createApiFetch(options: ApiFetchOptions): (input: string | URL, init?: RequestInit) => Promise<Response> {
  const check = optionChecks("createApiFetch");
  const auth = new ApiAuth(options, check.factory);
  const fetchFunction: FetchFunction = options.fetch ?? ((input, init) => fetch(input, init));
  if (typeof fetchFunction !== "function") throw check.error("'fetch' must be a fetch-shaped function.");
  const { dispatcher } = options;
  if (dispatcher !== undefined && typeof dispatcher?.dispatch !== "function") {
    throw check.error("'dispatcher' must be an undici Dispatcher, such as transport.dispatcher.");
  }
  // Node's fetch takes an undici dispatcher as a non-standard init member.
  const send = (url: URL, init: RequestInit): Promise<Response> =>
    fetchFunction(url, dispatcher === undefined ? init : ({ ...init, dispatcher } as unknown as RequestInit));

  return async function apiFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = absoluteUrl(input);
    if (!auth.appliesTo(url)) return send(url, init);
    const signal = init.signal ?? undefined;

    let response = await send(url, withAuthorization(init, await auth.authorization({ signal })));
    if (response.status === 401 && isReplayableBody(init.body)) {
      let plan;
      try {
        plan = auth.retryPlan(response.headers.get("www-authenticate"), url);
      } finally {
        await discard(response);
      }
      response = await send(url, withAuthorization(init, await auth.authorization({ ...plan, signal })));
    }
    if (response.status === 403) {
      const consent =
        auth.consentFromChallenge(response.headers.get("www-authenticate")) ??
        (isJson(response.headers.get("content-type")) ? auth.consentFromBody("application/json", await peek(response)) : undefined);
      if (consent !== undefined) {
        await discard(response);
        throw auth.consentError(response.status, url, consent);
      }
    }
    return response;
  };
}

function absoluteUrl(input: string | URL): URL {
  try {
    return new URL(input);
  } catch (cause) {
    throw new ConfigurationError("createApiFetch: the URL must be absolute, such as https://graph.microsoft.com/v1.0/users.", { cause });
  }
}

function withAuthorization(init: RequestInit, authorization: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("authorization", authorization);
  return { ...init, headers };
}

/** Up to {@link CONSENT_BODY_LIMIT} bytes of the body, read from a clone so the caller keeps it. */
async function peek(response: Response): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > CONSENT_BODY_LIMIT) return new Uint8Array();
  return (await readBodyUpTo(response.clone(), CONSENT_BODY_LIMIT)) ?? new Uint8Array();
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Already consumed or errored: nothing left to release.
  }
}

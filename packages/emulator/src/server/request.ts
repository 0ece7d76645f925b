// The request every route and step sees: the parts of an HTTP request the
// emulator answers on, already parsed, and the facts routes learn for the log.
import type { IncomingHttpHeaders } from "node:http";
import type { FaultKind } from "../lib/faults/types.js";

/** One request the emulator answered. Never holds secrets, assertions or tokens. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query. */
  path: string;
  /** The `{tenant}` path segment as the client sent it. */
  tenant?: string;
  clientId?: string;
  scope?: string;
  status: number;
  /** AADSTS codes of an error response. */
  errorCodes?: number[];
  grantType?: string;
  clientAuth?: "secret_post" | "secret_basic" | "assertion" | "none";
  /** Emulator clock at arrival (ms since the epoch). */
  at: number;
  /** The fault rule that answered (or delayed) the request, if any. A `status` of 0 means nothing was sent (hang, reset). */
  fault?: FaultKind;
  /** The region of the regional host (ESTS-R) the client addressed, e.g. `westus2` for `westus2.login.microsoft.com`. */
  region?: string;
}

/** What routes and steps learn about a request while handling it. */
export type RequestFacts = Partial<Pick<RecordedRequest, "tenant" | "clientId" | "scope" | "grantType" | "clientAuth" | "fault" | "region">> & {
  /** A request to a token endpoint (counted by `tokenRequestCount`, whatever its outcome). */
  tokenRequest?: boolean;
};

/** Facts as a route passes them: undefined values are left out of the record. */
export type NotedFacts = { [Name in keyof RequestFacts]?: RequestFacts[Name] | undefined };

/** A parsed request to the emulator. */
export interface EmulatorRequest {
  readonly method: string;
  /** The URL path without the query, as sent. */
  readonly pathname: string;
  /** Path segments, percent-decoded (a segment that does not decode stays as sent). */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The body as text; undefined when it is larger than 1 MiB. Read once, on first call. */
  text(): Promise<string | undefined>;
  /**
   * The emulator's base URL, e.g. `https://127.0.0.1:54321`; over HTTPS, when `Host` names a
   * Microsoft cloud's sign-in host (a client resolving it to loopback), that host's origin,
   * e.g. `https://westus2.login.microsoft.com`, so documents name endpoints on it.
   */
  readonly baseUrl: string;
  /**
   * The origin of the issuer in tokens and metadata: {@link baseUrl}, except on a cloud's
   * host, where it is the cloud's global origin (`https://login.microsoftonline.com`): a
   * regional host issues the global host's tokens.
   */
  readonly issuerBase: string;
  /** The region of a regional host (ESTS-R) named by `Host`, e.g. `westus2`; undefined elsewhere. */
  readonly region: string | undefined;
  /** The origin the client addressed (from `Host`), which may differ from {@link baseUrl} (localhost vs 127.0.0.1). */
  readonly hostOrigin: string | undefined;
  /** `client-request-id` when the client sent one, else a new GUID. */
  readonly correlationId: string;
  /** Emulator clock at arrival (ms since the epoch). */
  readonly now: number;
  /** Settles when the client closes the connection. */
  readonly clientLeft: Promise<void>;
  /** What routes and steps learned so far (see {@link note}). */
  readonly facts: Readonly<RequestFacts>;
  /** Adds what a route learned (tenant, client, scope…) to the request log; undefined values are skipped. */
  note(facts: NotedFacts): void;
}

/** The `{tenant}` segment and the rest of a tenant-scoped path: `/{tenant}/{tail}`. */
export function tenantPath(request: EmulatorRequest): { tenant: string | undefined; tail: string } {
  const [tenant, ...rest] = request.segments;
  return { tenant, tail: rest.join("/") };
}

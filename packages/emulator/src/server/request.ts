// The request every route and step sees: the parts of an HTTP request the
// emulator answers on, already parsed, and the facts routes learn for the log.
import type { IncomingHttpHeaders } from "node:http";
import type { NotedFacts, RequestFacts } from "./recording.js";

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
  /** The emulator's base URL, e.g. `https://127.0.0.1:54321`. */
  readonly baseUrl: string;
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

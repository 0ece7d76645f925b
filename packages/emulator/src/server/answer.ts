// What every route and step returns: one value per request, written to the
// socket by the HTTP server. Routes never touch the raw response.
import { randomUUID } from "node:crypto";
import { errorResponse, type AadstsFailure } from "../aadsts.js";

/** An HTTP answer. */
export interface Answer {
  readonly status: number;
  /** Response headers; `Content-Length` is added when the answer is sent. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Send without `Content-Length` (chunked), so a client has to cap the body while reading it. */
  readonly chunked?: boolean;
  /** AADSTS codes of an Entra error answer, for the request log. */
  readonly errorCodes?: readonly number[];
}

/** No answer at all: the client left while the request was held, or the connection is reset. */
export interface Dropped {
  readonly dropped: "client-left" | "reset";
}

/** The outcome of handling a request. */
export type Outcome = Answer | Dropped;

/** Headers of answers that no cache may keep (tokens, errors, pages with forms). */
export const NO_STORE: Readonly<Record<string, string>> = { "Cache-Control": "no-store, no-cache", Pragma: "no-cache" };

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Answer {
  return { status, headers: { "Content-Type": "application/json; charset=utf-8", ...headers }, body: JSON.stringify(body) };
}

/** An HTML page answer that no cache keeps. */
export function html(status: number, page: string, headers: Readonly<Record<string, string>> = {}): Answer {
  return { status, headers: { "Content-Type": "text/html; charset=utf-8", ...headers, ...NO_STORE }, body: page };
}

/** Options of {@link entraError}. */
export interface EntraErrorOptions {
  /** Extra headers (e.g. `client-request-id`, `Retry-After`). */
  headers?: Readonly<Record<string, string>>;
  /** Replaces the OAuth `error` Entra pairs with the code (its metadata endpoints say `invalid_tenant`). */
  error?: string;
}

/** What an Entra error answer names: where it was served, the client's correlation id and the time. */
export interface EntraErrorContext {
  readonly baseUrl: string;
  readonly correlationId: string;
  readonly now: number;
}

/** An Entra ID error answer for a failure: its status, body shape and headers. */
export function entraError(failure: AadstsFailure, request: EntraErrorContext, options: EntraErrorOptions = {}): Answer {
  const { status, body } = errorResponse(failure, { baseUrl: request.baseUrl, correlationId: request.correlationId, now: request.now });
  if (options.error !== undefined) body.error = options.error;
  return { ...json(status, body, { ...NO_STORE, "x-ms-request-id": body.trace_id, ...options.headers }), errorCodes: body.error_codes };
}

/** A fresh request id header value, as Microsoft services send on every answer. */
export function requestId(): string {
  return randomUUID();
}

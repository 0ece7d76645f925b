// How the sidecar answers: JSON bodies, the status and message of a failed acquisition,
// and callers' values made safe to repeat in a message or a log line.
import type { ServerResponse } from "node:http";
import { DaemonAuthError, InvalidRequestError, ServerError, ThrottledError } from "@daemon-auth/core";
import type { RequestOutcome } from "./metrics.js";

export /** The access log fields of one request. */
interface Outcome {
  status: number;
  outcome: RequestOutcome;
  scope?: string;
  tenant?: string;
  source?: string;
}

/** The answer to a failed acquisition: a status callers' retry policies handle right, and a message that says what to do. */
export function failureOf(error: unknown): Outcome & { message: string; headers: Record<string, string> } {
  if (error instanceof ThrottledError) {
    const seconds = Math.max(1, Math.ceil((error.retryAfter.getTime() - Date.now()) / 1000));
    return { status: 429, outcome: "throttled", message: error.message, headers: { "retry-after": String(seconds) } };
  }
  // Not retried by the SDKs (a refusal repeats), and App Service relays Entra's refusals as 400 too.
  if (error instanceof ServerError) return { status: 400, outcome: "upstream_refused", message: error.message, headers: {} };
  if (error instanceof InvalidRequestError) return { status: 400, outcome: "bad_request", message: error.message, headers: {} };
  if (error instanceof DaemonAuthError && ["ERR_HTTP", "ERR_INVALID_RESPONSE", "ERR_TIMEOUT"].includes(error.code)) {
    return { status: 503, outcome: "upstream_unavailable", message: error.message, headers: {} };
  }
  // Core's messages are free of secrets by contract; anything else may not be.
  const message = error instanceof DaemonAuthError ? error.message : "The sidecar failed to acquire a token; see its log.";
  return { status: 500, outcome: "error", message, headers: {} };
}

/** Writes a JSON answer (no body for HEAD). */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "x-content-type-options": "nosniff",
    ...headers,
  });
  response.end(response.req.method === "HEAD" ? undefined : text);
}

/** An error as a log line may show it: core's code and message, or only a foreign error's name. */
export function describe(error: unknown): string {
  return error instanceof DaemonAuthError ? `${error.code}: ${error.message}` : error instanceof Error ? error.name : "unknown error";
}

/** A caller's value, shortened and stripped of control characters before it goes into a message. */
export function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

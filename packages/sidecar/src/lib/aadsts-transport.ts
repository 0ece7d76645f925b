import { fetchTransport, readBodyUpTo, type HttpTransport } from "@daemon-auth/core";

/** Error bodies are small; a larger one is passed on unread (core bounds its own read). */
const MAX_ERROR_BODY = 64 * 1024;
/** Codes not yet claimed by a telemetry event are dropped past this many (a hook that never fires). */
const MAX_PENDING = 1024;

/** A transport that remembers the AADSTS code of each refused token request, by `client-request-id`. */
export interface AadstsTransport {
  readonly transport: HttpTransport;
  /** The first AADSTS code of the refused request sent with this `client-request-id`; forgets it. */
  take(correlationId: string): string | undefined;
}

/**
 * Wraps `inner` so the metrics can label upstream requests by AADSTS code: core's
 * telemetry event carries the status and the `client-request-id`, not the body. Only
 * non-2xx JSON answers are read here (never a token), then handed on as an identical
 * response.
 */
export function aadstsTransport(inner: HttpTransport = fetchTransport): AadstsTransport {
  const pending = new Map<string, string>();
  const transport: HttpTransport = async (url, init) => {
    const response = await inner(url, init);
    const correlationId = init.headers["client-request-id"];
    if (response.ok || correlationId === undefined || !(response.headers.get("content-type") ?? "").includes("json")) return response;
    const body = await readBodyUpTo(response, MAX_ERROR_BODY);
    if (body === undefined) return new Response("", { status: response.status, statusText: response.statusText, headers: response.headers });
    const code = firstErrorCode(body);
    if (code !== undefined) {
      if (pending.size >= MAX_PENDING) pending.clear();
      pending.set(correlationId, code);
    }
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return {
    transport,
    take(correlationId) {
      const code = pending.get(correlationId);
      pending.delete(correlationId);
      return code;
    },
  };
}

function firstErrorCode(body: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { error_codes?: unknown };
    const first = Array.isArray(parsed.error_codes) ? (parsed.error_codes[0] as unknown) : undefined;
    return typeof first === "number" && Number.isInteger(first) ? String(first) : undefined;
  } catch {
    return undefined;
  }
}

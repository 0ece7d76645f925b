/**
 * The seam for HTTP. Fetch-shaped so the global `fetch` of any runtime fits; the
 * `@daemon-auth/http-undici` package supplies a tuned one.
 */
export type HttpTransport = (url: string, init: HttpRequestInit) => Promise<Response>;

/** The subset of `RequestInit` core uses. */
export interface HttpRequestInit {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /**
   * Always `"manual"` from core: a redirect comes back as the answer (a 3xx status, or
   * an opaque redirect), and core refuses it, so the form with the client credential is
   * never re-sent to another URL. A transport that follows redirects anyway is still
   * safe for the answer (core refuses the 3xx it gets) but not for the re-sent form:
   * pass this to `fetch`, or never follow redirects.
   * @default "manual"
   */
  redirect?: "manual";
}

/**
 * Uses the runtime's global `fetch`, with redirects not followed (`init.redirect` is
 * `"manual"` from core; set here too in case a caller passes its own init).
 */
export const fetchTransport: HttpTransport = (url, init) => fetch(url, { ...init, redirect: "manual" });

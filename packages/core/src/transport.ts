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
}

/** Uses the runtime's global `fetch`. */
export const fetchTransport: HttpTransport = (url, init) => fetch(url, init);

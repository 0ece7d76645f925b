import type { Clock } from "../seams.js";
import type { TokenTarget } from "./token-target.js";

/**
 * The seam between the acquisition machinery and the thing that actually gets a token
 * from a server. Core's client credentials grant is one; a managed identity endpoint
 * (IMDS, App Service), which is not an OAuth 2.0 token endpoint at all, is another.
 *
 * A fetcher only fetches: the {@link TokenAcquirer} around it owns the in-process index,
 * single-flight, the request gates (remembered failures, `Retry-After`, refresh pauses),
 * the shared store and its lock, proactive refresh and serve-stale, and it turns the
 * fields returned here into the cached token (the lifetime cap and expiry margin apply to
 * every source alike).
 *
 * @example
 * // A managed identity source: GET with `resource=`, `expires_on` in epoch seconds.
 * const imds: TokenFetcher = {
 *   kind: "managed-identity",
 *   authority: "managed-identity:imds",
 *   clientId: "system-assigned",
 *   async fetchToken(target, { signal, clock }) {
 *     const url = `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resourceOf(target.scopes))}`;
 *     const body = await (await transport(url, { method: "GET", headers: { metadata: "true" }, signal, redirect: "manual" })).json();
 *     return { accessToken: body.access_token, tokenType: body.token_type, expiresIn: Number(body.expires_on) - Math.floor(clock.now() / 1000) };
 *   },
 * };
 */
export interface TokenFetcher {
  /** What the source is, for logs: `"client-credentials"`, `"managed-identity"`. */
  readonly kind: string;
  /**
   * Who issues the tokens: the first part of every cache key and part of the identity
   * written into every shared store entry and compared on every read. Two fetchers that
   * could return different tokens for the same tenant and scopes must differ here or in
   * {@link clientId} (an Entra authority base, a generic issuer, `managed-identity:imds`).
   */
  readonly authority: string;
  /** Whose tokens they are: the client id, or a managed identity's client / object / resource id. */
  readonly clientId: string;
  /**
   * Gets a new token for `target`: one request (with the source's own retries and
   * timeouts), no caching. Throws core's typed errors ({@link ServerError} with
   * `errorCodes` is remembered for `errorCacheMs` when permanent, a
   * {@link ThrottledError} pauses refreshes until its `retryAfter`).
   */
  fetchToken(target: TokenTarget, context: TokenFetchContext): Promise<FetchedToken>;
  /** Releases what the source holds (credentials, timers). Called once, on dispose. */
  dispose?(): Promise<void>;
}

/** What a {@link TokenFetcher} gets with each fetch. */
export interface TokenFetchContext {
  /** The server's claims challenge (JSON), for sources that can forward one; `undefined` otherwise. */
  readonly claims: string | undefined;
  /** The caller's or a generated correlation id, to send (`client-request-id`) and log. */
  readonly correlationId: string;
  /** Fires when the client is disposed: end the request with an `AbortError`. */
  readonly signal: AbortSignal;
  /** The client's clock: for `Retry-After`, an absolute `expires_on`, and waits (`clock.sleep`). */
  readonly clock: Clock;
  /**
   * Records a server-imposed pause (`Retry-After` on 429 or 503, milliseconds since the
   * epoch on the injected clock): no request for this target is sent before then, by any caller.
   */
  readonly pauseUntil: (until: number) => void;
  /**
   * The caller asked the server to echo {@link correlationId} (`return-client-request-id`)
   * on this request; a source without such a header ignores it.
   * @default false
   */
  readonly returnClientRequestId?: boolean | undefined;
}

/**
 * A token as the server gave it. Core caps the lifetime at `maxTokenLifetimeMs`, applies
 * the expiry margin and picks the refresh time.
 */
export interface FetchedToken {
  /** The token: an RFC 6750 `b64token`, or the acquisition fails with `InvalidResponseError`. */
  readonly accessToken: string;
  /** `"Bearer"`. */
  readonly tokenType: string;
  /**
   * Seconds the token lives from {@link sentAt}: positive. A source whose server answers
   * with an absolute expiry (managed identity's `expires_on`, epoch seconds as a string)
   * subtracts the clock's now.
   */
  readonly expiresIn: number;
  /** Seconds after which the server advises a refresh (Entra's `refresh_in`). */
  readonly refreshIn?: number | undefined;
  /**
   * Clock time the request that got the token was sent; its lifetime counts from here,
   * not from before earlier attempts and their backoff.
   * @default the clock time `fetchToken` was called
   */
  readonly sentAt?: number | undefined;
  /**
   * The endpoint that answered, without its query (for the client credentials grant the
   * regional or the global token endpoint): reported as the result's `tokenEndpoint`.
   * @default not reported
   */
  readonly tokenEndpoint?: string | undefined;
}

import type { TokenCacheStore } from "./cache-store.js";
import type { ClientCredential } from "./credential.js";
import type { Clock, Logger, TelemetryHooks, TokenSource } from "./seams.js";
import type { HttpTransport } from "./transport.js";

/** The national clouds of the Microsoft identity platform. */
export type AzureCloud = "public" | "usgov" | "china";

/**
 * Options of {@link createDaemonClient}. Give exactly one of `authority`,
 * `tenantId` (+ `cloud` or `authorityHost`) or `issuer`.
 */
export interface DaemonClientOptions {
  /**
   * An Entra authority URL: `https://login.microsoftonline.com/<tenant>`, another
   * cloud's host, or any custom host that speaks the Entra paths (the emulator).
   */
  authority?: string;
  /** The tenant: a GUID or a verified domain. Combined with `cloud` or `authorityHost`. */
  tenantId?: string;
  /** @default "public" */
  cloud?: AzureCloud;
  /** An Entra-shaped host to use instead of `cloud`, e.g. `AZURE_AUTHORITY_HOST`. */
  authorityHost?: string;
  /**
   * The issuer URL of a generic OAuth 2.0 / OpenID Connect server. Its token endpoint
   * is discovered from `/.well-known/openid-configuration` (then
   * `/.well-known/oauth-authorization-server`) once and cached.
   */
  issuer?: string;
  /**
   * Entra-shaped hosts, besides the Microsoft clouds and loopback, trusted with the
   * client's credential: `host` or `host:port`, as MSAL's `knownAuthorities`. Any other
   * `authority` or `authorityHost` is refused before any I/O.
   * @default []
   */
  knownAuthorities?: readonly string[];
  /**
   * `false` trusts any https `authority` or `authorityHost` without listing it in
   * `knownAuthorities`. Prefer `knownAuthorities`: a wrong host receives the credential.
   * @default true
   */
  validateAuthority?: boolean;
  /**
   * Sends token requests to a regional endpoint (ESTS-R), as MSAL's `azureRegion`: a
   * region name (`"westus2"`), or `"auto"` / `"TryAutoDetect"` to read `REGION_NAME`.
   * The public cloud's regional host is `<region>.login.microsoft.com`, another cloud's
   * `<region>.<host>`; a custom authority host never goes regional. When the regional host
   * is unreachable or answers 5xx, the global host is used for 5 minutes (logged).
   * @default no region: the global host
   */
  azureRegion?: string;
  /** The application (client) id. */
  clientId: string;
  /**
   * How the client authenticates. An ordered list means "try the next one once when
   * the server rejects this one with a rotation-type error".
   */
  credential: ClientCredential | readonly ClientCredential[];
  /**
   * How a client secret is sent. When not set, a generic issuer whose discovery
   * document lists `client_secret_basic` but not `client_secret_post` in
   * `token_endpoint_auth_methods_supported` gets `client_secret_basic`.
   * @default "client_secret_post"
   */
  tokenEndpointAuthMethod?: "client_secret_post" | "client_secret_basic";
  /**
   * Client capabilities declared on every token request, as MSAL's `clientCapabilities`:
   * `["cp1"]` says the daemon handles claims challenges (continuous access evaluation),
   * sent as `{"access_token":{"xms_cc":{"values":["cp1"]}}}` in the `claims` parameter and
   * merged with a claims challenge. Tokens stay cacheable; only a challenge skips the cache.
   * @default []
   */
  clientCapabilities?: readonly string[];
  /**
   * Extra query parameters on every token request URL (MSAL's `extraQueryParameters`),
   * e.g. `{ dc: "ESTS-PUB-WUS2-AZ1-FD000-TEST1" }`. They can never replace `client_id`,
   * `client_secret`, `client_assertion*`, `grant_type`, `scope` or `claims`. Never put a
   * secret here: URLs end up in proxy logs.
   * @default {}
   */
  extraQueryParameters?: Readonly<Record<string, string>>;
  /**
   * Extra form parameters in every token request body (MSAL's `extraParameters`),
   * under the same rules as `extraQueryParameters`.
   * @default {}
   */
  extraParameters?: Readonly<Record<string, string>>;
  /**
   * Sends `return-client-request-id: true`, asking the server to echo the
   * `client-request-id` in its answer (MSAL does so only when asked).
   * @default false
   */
  returnClientRequestId?: boolean;
  /** A store shared across clients, processes or restarts. The in-process index is always on. */
  cache?: TokenCacheStore;
  /** @default the global `fetch` */
  transport?: HttpTransport;
  /** @default the system clock */
  clock?: Clock;
  /** @default no logging */
  logger?: Logger;
  /** Telemetry callbacks. */
  telemetry?: TelemetryHooks;
  /**
   * A cached token is not handed out this close to its expiry, in milliseconds.
   * @default 300000 (5 minutes)
   */
  expiryMarginMs?: number;
  /**
   * The longest lifetime believed from a server's `expires_in`, in milliseconds: a
   * token that claims to live longer is treated as expiring after this, so a broken or
   * hostile server cannot plant a token that is served forever.
   * @default 86400000 (24 hours)
   */
  maxTokenLifetimeMs?: number;
  /**
   * How long one call to the `cache` store (get, set, lock, release) may take, in
   * milliseconds. Past it the store counts as failing for that call (logged once until
   * it recovers) and the acquisition goes on through the network, so a hung store
   * cannot hang the client.
   * @default 2000
   */
  storeTimeoutMs?: number;
  /**
   * Timeout of one token endpoint attempt, in milliseconds.
   * @default 10000
   */
  requestTimeoutMs?: number;
  /** Retry policy for 5xx, 408, 429 and network errors. */
  retry?: RetryOptions;
  /**
   * Most tokens kept in the in-process index; the oldest is evicted past it.
   * @default 100000
   */
  maxCachedTokens?: number;
  /**
   * How long a permanent configuration error (wrong or expired secret, unknown app or
   * tenant) or Entra's loop detection (AADSTS50196) is remembered for the same token
   * key, so a hot loop does not hammer the server, in milliseconds.
   * @default 30000
   */
  errorCacheMs?: number;
}

/** Retry policy of the token request. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Base of the exponential backoff, in milliseconds (full jitter).
   * @default 200
   */
  baseDelayMs?: number;
  /**
   * Longest wait between attempts, `Retry-After` included; a longer `Retry-After`
   * ends the retries with a {@link ThrottledError}.
   * @default 10000
   */
  maxDelayMs?: number;
}

/** A request of {@link DaemonClient.acquireTokenForClient}. */
export interface AcquireTokenRequest {
  /** One `<resource>/.default` scope (Entra), or the server's scopes (generic issuer). */
  scopes: readonly string[];
  /** Skip the cache read and fetch a new token (it is still stored). */
  forceRefresh?: boolean;
  /** Acquire for another tenant than the client's (Entra multi-tenant apps). */
  tenantId?: string;
  /** A claims challenge (JSON) from a resource's `WWW-Authenticate`; bypasses the cache read. */
  claims?: string;
  /** Cancels the acquisition. */
  signal?: AbortSignal;
  /** Sent as `client-request-id` on a token request. @default a random UUID */
  correlationId?: string;
  /**
   * Ask the server to echo `client-request-id` in its answer (`return-client-request-id:
   * true`) on the token request this call makes, as the client-level option does for every
   * request. A call answered from the cache, or joining a request already under way for
   * the same token, sends nothing.
   * @default the client's `returnClientRequestId`
   */
  returnClientRequestId?: boolean;
  /**
   * Continuous access evaluation for this request, as `@azure/identity`'s `enableCae`: the
   * client capability `cp1` is sent (added to the client's `clientCapabilities`) and the
   * token is cached apart from tokens requested without it, so neither is served for the
   * other. Resources then answer a revoked token with a claims challenge (pass its
   * `claims`).
   * @default false: the client's `clientCapabilities` alone
   */
  enableCae?: boolean;
}

/** An access token and what is known about it. */
export interface AccessTokenResult {
  /**
   * The bearer token. Never log it: the result itself prints without it (`JSON.stringify`
   * and `util.inspect` show `"[redacted]"` in its place).
   */
  readonly accessToken: string;
  /** `"Bearer"`. */
  readonly tokenType: string;
  /** When the token expires: a new `Date` on every read (a cache hit allocates none until read). */
  readonly expiresOn: Date;
  /** When the client will start refreshing it in the background: a new `Date` on every read. */
  readonly refreshOn: Date;
  /** The normalized scopes the token was issued for. */
  readonly scopes: readonly string[];
  /** The tenant the token was issued by (as requested). */
  readonly tenantId: string;
  /** Who answered: the in-process index, the shared store, or the token endpoint. */
  readonly source: TokenSource;
  /** The `client-request-id` of the token request that produced this token. */
  readonly correlationId: string;
  /**
   * The token endpoint that answered this call's token request (without its query): with
   * `azureRegion`, the regional host or, after a regional failure, the global one.
   * `undefined` when the call made no token request (`source` `"cache"` or
   * `"shared-cache"`), as MSAL.NET's `AuthenticationResultMetadata.TokenEndpoint` is null
   * for a cached token.
   */
  readonly tokenEndpoint?: string | undefined;
}

/** A confidential client for the client credentials grant. */
export interface DaemonClient {
  /** The client id. */
  readonly clientId: string;
  /**
   * The tenant tokens are requested from when a request names none (Entra, lower case);
   * `undefined` for a generic issuer or a client that does not say.
   */
  readonly tenantId?: string | undefined;
  /** The `clientCapabilities` the client declares on every token request (e.g. `["cp1"]`). */
  readonly clientCapabilities?: readonly string[] | undefined;
  /** An app-only access token for `request.scopes`, from the cache when it can. */
  acquireTokenForClient(request: AcquireTokenRequest): Promise<AccessTokenResult>;
  /** Forgets every token in the in-process index (the shared store is left alone). */
  clearCache(): void;
  /**
   * Stops background refreshes and disposes the credentials. The `cache` store is left
   * open: it may be shared by other clients, so its owner disposes it.
   */
  dispose(): Promise<void>;
}

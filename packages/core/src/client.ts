import type { StoreLock, TokenCacheStore } from "./cache-store.js";
import type {
  AccessTokenResult,
  AcquireTokenRequest,
  DaemonClient,
  DaemonClientOptions,
  RetryOptions,
} from "./client-types.js";
import {
  JWT_BEARER_ASSERTION_TYPE,
  type ClientAuthentication,
  type ClientCredential,
  type CredentialContext,
} from "./credential.js";
import { systemClock, type Clock, type Logger, type TelemetryHooks } from "./environment.js";
import {
  CacheError,
  ConfigurationError,
  CredentialError,
  DaemonAuthError,
  InvalidRequestError,
  PERMANENT_ERROR_CODES,
  ROTATION_ERROR_CODES,
  ServerError,
  ThrottledError,
} from "./errors.js";
import { redacted } from "./redacted.js";
import { fetchTransport, type HttpTransport } from "./transport.js";
import { entraTokenEndpoint, requestTenant, resolveAuthority, type Authority } from "./lib/authority.js";
import {
  createCachedToken,
  deserializeToken,
  keyPrefix,
  scopeKey,
  serializeToken,
  tokenCacheKey,
  TokenIndex,
  toResult,
  type CachedToken,
  type LifetimePolicy,
} from "./lib/cached-token.js";
import { discoverMetadata, type ServerMetadata } from "./lib/discovery.js";
import { raceAbort, sleep } from "./lib/http.js";
import { normalizeEntraScopes, normalizeGenericScopes } from "./lib/scopes.js";
import { postTokenRequest, throttledUntil, type TokenEndpointSettings } from "./lib/token-endpoint.js";
import { printable, printableValue } from "./lib/validation.js";

const VERSION = "0.1.0";
const DEFAULTS = {
  expiryMarginMs: 5 * 60_000,
  requestTimeoutMs: 10_000,
  maxCachedTokens: 100_000,
  errorCacheMs: 30_000,
  maxTokenLifetimeMs: 24 * 60 * 60_000,
  // Above cache-redis' own 500 ms command timeout, so a store's own, more precise error
  // wins; short enough that a hung store costs a cold acquisition little.
  storeTimeoutMs: 2_000,
  retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 10_000 },
} as const;
/**
 * After a refresh fails while the cached token stays valid, the next one waits a quarter
 * of the time the token has left, within these bounds: a failing server is not asked
 * again on every cache hit, and a token close to expiry still gets a few more tries.
 */
const REFRESH_PAUSE_MS = { min: 1_000, max: 30_000 } as const;
/** Entra's loop detection: asking again at once prolongs it, so it is remembered like a permanent error. */
const LOOP_DETECTED = 50196;
/** How often a process waiting on another's refresh lock looks at the shared store. */
const LOCK_POLL_MS = { first: 20, max: 250 } as const;

/**
 * Every option {@link createDaemonClient} knows. `satisfies` makes the compiler refuse
 * this list when an option is added to {@link DaemonClientOptions} and not here.
 */
const KNOWN_OPTIONS = {
  authority: true,
  tenantId: true,
  cloud: true,
  authorityHost: true,
  issuer: true,
  clientId: true,
  credential: true,
  tokenEndpointAuthMethod: true,
  cache: true,
  transport: true,
  clock: true,
  logger: true,
  telemetry: true,
  expiryMarginMs: true,
  maxTokenLifetimeMs: true,
  storeTimeoutMs: true,
  requestTimeoutMs: true,
  retry: true,
  maxCachedTokens: true,
  errorCacheMs: true,
} as const satisfies Record<keyof DaemonClientOptions, true>;

const KNOWN_RETRY_OPTIONS = { maxAttempts: true, baseDelayMs: true, maxDelayMs: true } as const satisfies Record<
  keyof RetryOptions,
  true
>;

/**
 * Creates a confidential client for the OAuth 2.0 client credentials grant.
 *
 * Configuration is checked here, before any I/O; each mistake is a
 * {@link ConfigurationError} that names the fix.
 *
 * @example
 * const client = createDaemonClient({
 *   tenantId: "contoso.onmicrosoft.com",
 *   clientId: process.env.AZURE_CLIENT_ID,
 *   credential: clientSecret(process.env.AZURE_CLIENT_SECRET),
 * });
 * const { accessToken } = await client.acquireTokenForClient({ scopes: ["https://graph.microsoft.com/.default"] });
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 */
export function createDaemonClient(options: DaemonClientOptions): DaemonClient {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError("createDaemonClient needs an options object: { tenantId, clientId, credential }.");
  }
  // A misspelt option (expiryMarginMS) would otherwise be ignored without a word.
  checkKnownKeys(options, KNOWN_OPTIONS, "");
  return new ConfidentialClient(options);
}

type LockingStore = TokenCacheStore & { lock: NonNullable<TokenCacheStore["lock"]> };

function hasLock(store: TokenCacheStore): store is LockingStore {
  return typeof store.lock === "function";
}

interface Flight {
  readonly promise: Promise<AccessTokenResult>;
}

class ConfidentialClient implements DaemonClient {
  readonly clientId: string;
  private readonly authority: Authority;
  private readonly credentials: readonly ClientCredential[];
  private activeCredential = 0;
  private readonly store: TokenCacheStore | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly telemetry: TelemetryHooks | undefined;
  /** The method the user chose; `undefined` lets a generic issuer's metadata decide. */
  private readonly authMethod: "client_secret_post" | "client_secret_basic" | undefined;
  private readonly lifetimePolicy: LifetimePolicy;
  private readonly errorCacheMs: number;
  private readonly storeTimeoutMs: number;
  /** The Entra authority base or the generic issuer: part of every key and every shared entry. */
  private readonly authorityId: string;
  private readonly endpoint: TokenEndpointSettings;
  private readonly transport: HttpTransport;
  /** `authority|client|`: the key prefix up to the tenant, see {@link tokenCacheKey}. */
  private readonly keyPrefix: string;
  private readonly normalizeScopes: (scopes: readonly string[]) => readonly string[];

  /** The in-process tokens: O(1) on a hit, no serialization, no key built. */
  private readonly index: TokenIndex;
  private readonly flights = new Map<string, Flight>();
  /** Server-imposed pauses (`Retry-After`) per token key. */
  private readonly pausedUntil = new Map<string, number>();
  /** Per token key: no refresh before this, after one failed while the cached token stayed valid. */
  private readonly refreshPausedUntil = new Map<string, number>();
  /** Permanent configuration errors per token key, so a hot loop does not hammer the server. */
  private readonly failures = new Map<string, { error: DaemonAuthError; until: number }>();
  private metadata: Promise<ServerMetadata> | undefined;
  private readonly lifetime = new AbortController();
  private storeHealthy = true;

  constructor(options: DaemonClientOptions) {
    this.clientId = checkClientId(options.clientId);
    this.authority = resolveAuthority(options);
    this.credentials = checkCredentials(options.credential);
    this.store = checkStore(options.cache);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.telemetry = options.telemetry;
    const method = options.tokenEndpointAuthMethod;
    if (method !== undefined && method !== "client_secret_post" && method !== "client_secret_basic") {
      throw new ConfigurationError(
        `'tokenEndpointAuthMethod' must be "client_secret_post" or "client_secret_basic", not '${printableValue(method)}'.`,
      );
    }
    this.authMethod = method;
    this.lifetimePolicy = {
      expiryMarginMs: checkDuration(options.expiryMarginMs, "expiryMarginMs", DEFAULTS.expiryMarginMs, true),
      maxLifetimeMs: checkDuration(options.maxTokenLifetimeMs, "maxTokenLifetimeMs", DEFAULTS.maxTokenLifetimeMs, false),
    };
    this.index = new TokenIndex(checkCount(options.maxCachedTokens, "maxCachedTokens", DEFAULTS.maxCachedTokens));
    this.errorCacheMs = checkDuration(options.errorCacheMs, "errorCacheMs", DEFAULTS.errorCacheMs, true);
    this.storeTimeoutMs = checkDuration(options.storeTimeoutMs, "storeTimeoutMs", DEFAULTS.storeTimeoutMs, false);
    this.transport = checkTransport(options.transport);
    this.endpoint = {
      transport: this.transport,
      clock: this.clock,
      logger: this.logger,
      telemetry: this.guardedTelemetry(),
      timeoutMs: checkDuration(options.requestTimeoutMs, "requestTimeoutMs", DEFAULTS.requestTimeoutMs, false),
      retry: checkRetry(options.retry),
    };
    this.authorityId = this.authority.kind === "entra" ? this.authority.base : this.authority.issuer;
    this.keyPrefix = keyPrefix(this.authorityId, this.clientId);
    this.normalizeScopes = this.authority.kind === "entra" ? normalizeEntraScopes : normalizeGenericScopes;
    redacted(this, `DaemonClient(clientId=${this.clientId}, authority=${this.authorityId})`);
  }

  /** `onTokenRequest`, guarded like `onAcquire`: a telemetry bug must not cost the caller its token. */
  private guardedTelemetry(): TelemetryHooks | undefined {
    const hooks = this.telemetry;
    if (hooks?.onTokenRequest === undefined) return undefined;
    return {
      onTokenRequest: (event) => {
        this.callHook("onTokenRequest", () => hooks.onTokenRequest?.(event));
      },
    };
  }

  /** Runs a telemetry hook; one that throws is logged and otherwise ignored. */
  private callHook(name: keyof TelemetryHooks, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger?.warn?.(`daemon-auth: the ${name} telemetry hook threw`, { error: describe(error) });
    }
  }

  acquireTokenForClient(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    // The hook is looked up per call, so a client without it pays nothing on a hit.
    const telemetry = this.telemetry;
    return telemetry?.onAcquire === undefined ? this.acquire(request) : this.acquireReporting(request, telemetry);
  }

  private async acquireReporting(request: AcquireTokenRequest, telemetry: TelemetryHooks): Promise<AccessTokenResult> {
    const started = performance.now();
    const result = await this.acquire(request);
    this.callHook("onAcquire", () =>
      telemetry.onAcquire?.({
        source: result.source,
        durationMs: performance.now() - started,
        cacheKey: this.tokenKey(result.tenantId, scopeKey(result.scopes)),
      }),
    );
    return result;
  }

  private async acquire(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    if (request === null || typeof request !== "object") {
      throw new InvalidRequestError("acquireTokenForClient needs a request: { scopes: ['<resource>/.default'] }.");
    }
    const readCache = request.forceRefresh !== true && request.claims === undefined;
    const requested = request.scopes;
    const tenantId: unknown = request.tenantId;
    if (
      readCache &&
      Array.isArray(requested) &&
      requested.length === 1 &&
      typeof requested[0] === "string" &&
      // A space joins the scopes of one index key ("a b" holds ["a","b"]), so a raw scope
      // holding one is not a scope: the cold path refuses it, and so must a hit.
      !requested[0].includes(" ") &&
      (tenantId === undefined || typeof tenantId === "string")
    ) {
      // Hot path: a tenant and scope are in the index only if they passed validation (and
      // normalization: a tenant in another case misses here and hits below) when the token
      // was stored, so a hit needs no validation, builds no key and allocates nothing.
      const hit = this.cachedAnswer(tenantId ?? this.authority.defaultTenant, requested[0]);
      if (hit !== undefined) return hit;
    }
    const scopes = this.normalizeScopes(requested);
    const tenant = requestTenant(this.authority, request.tenantId);
    if (readCache) {
      const hit = this.cachedAnswer(tenant, scopeKey(scopes));
      if (hit !== undefined) return hit;
    }
    return this.acquireSlowly(this.tokenKey(tenant, scopeKey(scopes)), tenant, scopes, request);
  }

  /** The key of flights, pauses and the shared store, see {@link tokenCacheKey}. */
  private tokenKey(tenant: string, scopes: string): string {
    return tokenCacheKey(this.keyPrefix, tenant, scopes);
  }

  /** The cached answer for a tenant and scope key, starting a background refresh when it is due. */
  private cachedAnswer(tenant: string, scopes: string): AccessTokenResult | undefined {
    const cached = this.index.get(tenant, scopes);
    if (cached === undefined) return undefined;
    const now = this.clock.now();
    if (now < cached.refreshOn) return cached.cacheResult;
    if (now >= cached.usableUntil) return undefined;
    this.refreshInBackground(this.tokenKey(cached.tenantId, scopes), cached.tenantId, cached.scopes);
    return cached.cacheResult;
  }

  clearCache(): void {
    this.index.clear();
    this.failures.clear();
    this.refreshPausedUntil.clear();
  }

  async dispose(): Promise<void> {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort(new ConfigurationError("The client was disposed."));
    this.clearCache();
    await Promise.allSettled(this.credentials.map(async (credential) => credential.dispose?.()));
  }

  private async acquireSlowly(
    key: string,
    tenant: string,
    scopes: readonly string[],
    request: AcquireTokenRequest,
  ): Promise<AccessTokenResult> {
    if (this.lifetime.signal.aborted) {
      throw new ConfigurationError("This client was disposed; create a new one to acquire tokens.");
    }
    const claims = request.claims === undefined ? undefined : checkClaims(request.claims);
    checkSignal(request.signal);
    const correlationId = request.correlationId === undefined ? crypto.randomUUID() : checkCorrelationId(request.correlationId);
    const bypassRead = request.forceRefresh === true || claims !== undefined;
    // Concurrent callers with the same needs share one flight; a forced or claims
    // request never joins a plain one, since it must not be answered from cache.
    const flightKey = claims !== undefined ? `${key}|claims=${claims}` : bypassRead ? `${key}|force` : key;
    let flight = this.flights.get(flightKey);
    if (flight === undefined) {
      flight = this.startFlight(flightKey, () => this.acquireShared(key, tenant, scopes, { bypassRead, claims, correlationId }));
    }
    return raceAbort(flight.promise, request.signal);
  }

  private startFlight(flightKey: string, run: () => Promise<AccessTokenResult>): Flight {
    const flight: Flight = { promise: run() };
    this.flights.set(flightKey, flight);
    const done = () => {
      if (this.flights.get(flightKey) === flight) this.flights.delete(flightKey);
    };
    flight.promise.then(done, done);
    return flight;
  }

  private refreshInBackground(key: string, tenant: string, scopes: readonly string[]): void {
    if (this.flights.has(key) || this.lifetime.signal.aborted || this.clock.now() < (this.refreshPausedUntil.get(key) ?? 0)) return;
    const correlationId = crypto.randomUUID();
    const flight = this.startFlight(key, () =>
      this.acquireShared(key, tenant, scopes, { bypassRead: false, claims: undefined, correlationId }),
    );
    flight.promise.catch((error: unknown) => {
      this.logger?.warn?.("daemon-auth: background token refresh failed; the cached token is still served", {
        tenant,
        scope: scopes.join(" "),
        error: describe(error),
        correlationId,
      });
    });
  }

  /**
   * DESIGN §4 steps 4–8: the shared store, then its lock, then the network; a token
   * that is still valid is served when the refresh fails.
   */
  private async acquireShared(
    key: string,
    tenant: string,
    scopes: readonly string[],
    mode: { bypassRead: boolean; claims: string | undefined; correlationId: string },
  ): Promise<AccessTokenResult> {
    const stale = this.index.get(tenant, scopeKey(scopes));
    try {
      if (this.store !== undefined && !mode.bypassRead) {
        const shared = await this.readShared(key, tenant, scopes, stale);
        if (shared) return shared;
      }
      const now = this.clock.now();
      if (!mode.bypassRead && stale !== undefined && now < stale.expiresOn && now < (this.refreshPausedUntil.get(key) ?? 0)) {
        return stale.cacheResult;
      }
      const result =
        this.store !== undefined && !mode.bypassRead && hasLock(this.store)
          ? await this.fetchUnderLock(this.store, key, tenant, scopes, mode.correlationId, stale)
          : await this.fetchAndStore(key, tenant, scopes, mode.claims, mode.correlationId);
      this.refreshPausedUntil.delete(key);
      return result;
    } catch (error) {
      const now = this.clock.now();
      // A claims request means the resource has just rejected the cached token: it must not be served again.
      const servable = stale !== undefined && mode.claims === undefined && now < stale.expiresOn;
      if (servable && this.index.get(tenant, scopeKey(scopes)) === stale) {
        const pause = Math.min(REFRESH_PAUSE_MS.max, Math.max(REFRESH_PAUSE_MS.min, (stale.expiresOn - now) / 4));
        const retryAfter = error instanceof ThrottledError ? error.retryAfter.getTime() : 0;
        this.refreshPausedUntil.set(key, Math.max(now + pause, retryAfter));
        this.logger?.warn?.("daemon-auth: token refresh failed; serving the cached token until it expires", {
          tenant,
          scope: scopes.join(" "),
          expiresOn: new Date(stale.expiresOn).toISOString(),
          error: describe(error),
        });
        return stale.cacheResult;
      }
      throw error;
    }
  }

  /** A store entry answers when it is newer than what this process holds. */
  private async readShared(
    key: string,
    tenant: string,
    scopes: readonly string[],
    stale: CachedToken | undefined,
  ): Promise<AccessTokenResult | undefined> {
    const token = await this.storeGet(key, tenant, scopes);
    if (token === undefined) return undefined;
    const now = this.clock.now();
    const fresh = now < token.refreshOn || (stale === undefined && now < token.usableUntil);
    if (!fresh) return undefined;
    this.index.set(token);
    return toResult(token, "shared-cache");
  }

  /**
   * One process per key fetches; the others wait for its result in the store and
   * take over if the holder dies (its lock expires) or takes too long.
   */
  private async fetchUnderLock(
    store: LockingStore,
    key: string,
    tenant: string,
    scopes: readonly string[],
    correlationId: string,
    stale: CachedToken | undefined,
  ): Promise<AccessTokenResult> {
    const { timeoutMs, retry } = this.endpoint;
    const ttlMs = timeoutMs * retry.maxAttempts + retry.maxDelayMs;
    const deadline = this.clock.now() + ttlMs + timeoutMs;
    let pause: number = LOCK_POLL_MS.first;
    for (;;) {
      const lock = await this.storeLock(store, key, ttlMs);
      if (lock !== "busy") {
        try {
          // Another process may have written between our read and our lock.
          const shared = await this.readShared(key, tenant, scopes, stale);
          if (shared) return shared;
          return await this.fetchAndStore(key, tenant, scopes, undefined, correlationId);
        } finally {
          // A broken store's lock must not turn a token into an error.
          if (lock !== undefined) await this.storeCall("release", () => lock.release()).catch(() => undefined);
        }
      }
      if (this.clock.now() >= deadline) break;
      await sleep(pause, this.lifetime.signal);
      pause = Math.min(pause * 2, LOCK_POLL_MS.max);
      const shared = await this.readShared(key, tenant, scopes, stale);
      if (shared) return shared;
    }
    this.logger?.warn?.("daemon-auth: the process holding the refresh lock did not deliver a token in time; fetching", { tenant });
    return this.fetchAndStore(key, tenant, scopes, undefined, correlationId);
  }

  private async fetchAndStore(
    key: string,
    tenant: string,
    scopes: readonly string[],
    claims: string | undefined,
    correlationId: string,
  ): Promise<AccessTokenResult> {
    const token = await this.fetchToken(key, tenant, scopes, claims, correlationId);
    this.index.set(token);
    if (this.store !== undefined) await this.storeSet(this.store, key, token);
    return toResult(token, "network");
  }

  private async fetchToken(
    key: string,
    tenant: string,
    scopes: readonly string[],
    claims: string | undefined,
    correlationId: string,
  ): Promise<CachedToken> {
    const now = this.clock.now();
    const failure = this.failures.get(key);
    if (failure !== undefined) {
      if (now < failure.until) throw failure.error;
      this.failures.delete(key);
    }
    const paused = this.pausedUntil.get(key);
    if (paused !== undefined) {
      if (now < paused) throw throttledUntil(paused);
      this.pausedUntil.delete(key);
    }
    const { url: tokenEndpoint, basicAuth } = await this.tokenEndpoint(tenant);
    let rotated = false;
    for (;;) {
      const index = this.activeCredential;
      const credential = this.credentials[index] as ClientCredential;
      try {
        const authentication = await this.authenticate(credential, tokenEndpoint);
        const { response, sentAt } = await postTokenRequest(this.endpoint, {
          url: tokenEndpoint,
          ...this.buildRequest(authentication, basicAuth, scopes, claims, correlationId),
          correlationId,
          signal: this.lifetime.signal,
          onRetryAfter: (until) => this.pausedUntil.set(key, until),
        });
        if (rotated) {
          this.logger?.info?.("daemon-auth: a rotated credential was accepted", {
            credential: index,
            kind: credential.kind,
            description: credential.description,
          });
        }
        return createCachedToken(response, sentAt, this.lifetimePolicy, scopes, tenant, correlationId);
      } catch (error) {
        // Retrying makes sense only if something can change: a reloaded or another credential.
        const canRotate = this.credentials.length > 1 || credential.reload !== undefined;
        if (!rotated && canRotate && this.isRotationError(error)) {
          // Reload the rejected credential and try the next one (or the reloaded one) once.
          rotated = true;
          this.activeCredential = (index + 1) % this.credentials.length;
          this.logger?.warn?.("daemon-auth: the server rejected the credential; reloading it and trying once more", {
            credential: index,
            kind: credential.kind,
            errorCodes: error.errorCodes.join(","),
            next: this.activeCredential,
          });
          await credential
            .reload?.({ error: error.error, errorCodes: error.errorCodes })
            .catch((reloadError: unknown) =>
              this.logger?.warn?.("daemon-auth: reloading the credential failed", { error: describe(reloadError) }),
            );
          continue;
        }
        if (error instanceof ServerError && error.errorCodes.some((code) => PERMANENT_ERROR_CODES.has(code) || code === LOOP_DETECTED)) {
          this.failures.set(key, { error, until: this.clock.now() + this.errorCacheMs });
        }
        throw error;
      }
    }
  }

  private isRotationError(error: unknown): error is ServerError {
    if (!(error instanceof ServerError)) return false;
    if (error.errorCodes.some((code) => ROTATION_ERROR_CODES.has(code))) return true;
    // Generic servers have no AADSTS codes; invalid_client is their "credential rejected".
    return this.authority.kind === "generic" && error.error === "invalid_client";
  }

  private async authenticate(credential: ClientCredential, tokenEndpoint: string): Promise<ClientAuthentication> {
    const context: CredentialContext = {
      tokenEndpoint,
      clientId: this.clientId,
      authorityKind: this.authority.kind,
      signal: this.lifetime.signal,
    };
    try {
      return await credential.getAuthentication(context);
    } catch (error) {
      if (error instanceof DaemonAuthError) throw error;
      throw new CredentialError(`The ${credential.kind} credential failed to produce client authentication.`, {
        cause: error,
      });
    }
  }

  private buildRequest(
    authentication: ClientAuthentication,
    basicAuth: boolean,
    scopes: readonly string[],
    claims: string | undefined,
    correlationId: string,
  ): { headers: Record<string, string>; body: string } {
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded;charset=utf-8",
      accept: "application/json",
      "client-request-id": correlationId,
      "return-client-request-id": "true",
      "x-client-sku": "daemon-auth",
      "x-client-ver": VERSION,
    };
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (scopes.length > 0) form.set("scope", scopes.join(" "));
    if (claims !== undefined) form.set("claims", claims);
    if ("clientSecret" in authentication) {
      if (basicAuth) {
        // RFC 6749 §2.3.1: both parts form-encoded before Base64.
        const user = encodeURIComponent(this.clientId).replace(/%20/g, "+");
        const password = encodeURIComponent(authentication.clientSecret).replace(/%20/g, "+");
        headers["authorization"] = `Basic ${btoa(`${user}:${password}`)}`;
      } else {
        form.set("client_id", this.clientId);
        form.set("client_secret", authentication.clientSecret);
      }
    } else {
      form.set("client_id", this.clientId);
      form.set("client_assertion_type", authentication.clientAssertionType ?? JWT_BEARER_ASSERTION_TYPE);
      form.set("client_assertion", authentication.clientAssertion);
    }
    return { headers, body: form.toString() };
  }

  /** The token endpoint, and whether a client secret goes in a Basic header there. */
  private async tokenEndpoint(tenant: string): Promise<{ url: string; basicAuth: boolean }> {
    if (this.authority.kind === "entra") {
      return { url: entraTokenEndpoint(this.authority, tenant), basicAuth: this.authMethod === "client_secret_basic" };
    }
    const issuer = this.authority.issuer;
    // Discovery runs once; a failure is not cached, so the next acquisition retries it.
    this.metadata ??= discoverMetadata(issuer, this.transport, this.endpoint.timeoutMs, this.lifetime.signal).catch(
      (error: unknown) => {
        this.metadata = undefined;
        throw error;
      },
    );
    const metadata = await this.metadata;
    return { url: metadata.tokenEndpoint, basicAuth: (this.authMethod ?? preferredAuthMethod(metadata.authMethods)) === "client_secret_basic" };
  }

  // The shared store is an optimisation: when it fails, acquisition goes on through the
  // network, and the failure is logged once until the store recovers.

  private async storeGet(key: string, tenant: string, scopes: readonly string[]): Promise<CachedToken | undefined> {
    const store = this.store as TokenCacheStore;
    try {
      const value = await this.storeCall("get", () => store.get(key));
      this.storeRecovered();
      if (value === undefined) return undefined;
      // The full identity is compared too: a key is only an address, not a proof of whose token it holds.
      const token = deserializeToken(value, { authority: this.authorityId, clientId: this.clientId, tenantId: tenant, scopes });
      if (token === undefined) this.logger?.debug?.("daemon-auth: ignoring an unreadable shared cache entry", { tenant });
      return token;
    } catch (error) {
      this.storeFailed(error);
      return undefined;
    }
  }

  private async storeSet(store: TokenCacheStore, key: string, token: CachedToken): Promise<void> {
    try {
      const value = serializeToken(token, this.authorityId, this.clientId);
      await this.storeCall("set", () => store.set(key, value, token.expiresOn));
      this.storeRecovered();
    } catch (error) {
      this.storeFailed(error);
    }
  }

  /** The lock, `undefined` when the store failed (fetch without it), or `"busy"`. */
  private async storeLock(
    store: LockingStore,
    key: string,
    ttlMs: number,
  ): Promise<StoreLock | undefined | "busy"> {
    const taking = Promise.resolve().then(() => store.lock(key, { ttlMs }));
    try {
      return (await this.storeCall("lock", () => taking)) ?? "busy";
    } catch (error) {
      // A lock granted after we stopped waiting would block every other process until its ttl.
      taking.then((late) => late?.release(), () => undefined).catch(() => undefined);
      this.storeFailed(error);
      return undefined;
    }
  }

  /**
   * A store call with a deadline: a store that never answers (a dead connection, a FIFO
   * planted in a cache directory) fails like one that throws, after `storeTimeoutMs`.
   * A late answer is dropped; a late rejection is handled here, not left unhandled.
   */
  private storeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new CacheError(
            `The ${this.store?.name ?? "token cache"} store did not answer '${operation}' within ${String(this.storeTimeoutMs)} ms ('storeTimeoutMs'); check the store.`,
          ),
        );
      }, this.storeTimeoutMs);
      Promise.resolve()
        .then(call)
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the store's own error, handled by the caller
            reject(error);
          },
        );
    });
  }

  private storeFailed(error: unknown): void {
    if (!this.storeHealthy) return;
    this.storeHealthy = false;
    this.logger?.warn?.("daemon-auth: the shared token cache is unavailable; using the in-process cache and the network", {
      store: this.store?.name,
      error: describe(error),
    });
  }

  private storeRecovered(): void {
    if (this.storeHealthy) return;
    this.storeHealthy = true;
    this.logger?.info?.("daemon-auth: the shared token cache is available again", { store: this.store?.name });
  }
}

/**
 * The client authentication a generic server supports, when the user chose none: Basic
 * only when the server lists it and not `client_secret_post`, which stays the default
 * (RFC 8414 §2: an absent list means `client_secret_basic`, but most servers take both,
 * and the form keeps the secret out of proxies' header logs).
 */
function preferredAuthMethod(supported: readonly string[] | undefined): "client_secret_post" | "client_secret_basic" {
  if (supported === undefined || supported.includes("client_secret_post")) return "client_secret_post";
  return supported.includes("client_secret_basic") ? "client_secret_basic" : "client_secret_post";
}

/**
 * Refuses keys `known` does not list, naming the nearest known one: a misspelt option
 * would otherwise be ignored and its default used without a word.
 */
function checkKnownKeys(options: object, known: Readonly<Record<string, true>>, path: string): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    const names = Object.keys(known);
    let nearest = names[0] ?? "";
    let best = Number.POSITIVE_INFINITY;
    for (const name of names) {
      const distance = editDistance(key.toLowerCase(), name.toLowerCase());
      if (distance < best) [nearest, best] = [name, distance];
    }
    const close = best <= Math.max(2, Math.floor(nearest.length / 3));
    throw new ConfigurationError(
      `Unknown option '${path}${printable(key)}' for createDaemonClient` +
        (close
          ? `; did you mean '${path}${nearest}'?`
          : ` (the nearest known option is '${path}${nearest}'); remove it, the known options are: ${names.join(", ")}.`),
    );
  }
}

/** Levenshtein distance, for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function describe(error: unknown): string {
  if (error instanceof DaemonAuthError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.name;
  return "unknown error";
}

function checkClientId(clientId: unknown): string {
  if (typeof clientId !== "string" || clientId.length === 0) {
    throw new ConfigurationError("'clientId' must be the application (client) id of the app registration.");
  }
  if (clientId.length > 256 || /[\s\u0000-\u001f]/.test(clientId)) {
    throw new ConfigurationError(`'clientId' '${printable(clientId)}' contains spaces or control characters; copy the application (client) id again.`);
  }
  return clientId;
}

function checkCredentials(credential: unknown): readonly ClientCredential[] {
  const list: unknown[] = Array.isArray(credential) ? credential : [credential];
  if (list.length === 0 || list.some((item) => typeof (item as ClientCredential | undefined)?.getAuthentication !== "function")) {
    throw new ConfigurationError(
      "'credential' must be a client credential (e.g. clientSecret(…) or certificateCredential(…)) or a non-empty list of them.",
    );
  }
  return Object.freeze(list as ClientCredential[]);
}

function checkStore(store: unknown): TokenCacheStore | undefined {
  if (store === undefined) return undefined;
  const candidate = store as TokenCacheStore;
  if (typeof candidate.get !== "function" || typeof candidate.set !== "function" || typeof candidate.delete !== "function") {
    throw new ConfigurationError("'cache' must be a token cache store (get, set, delete), e.g. createMemoryCache() or createRedisCache(…).");
  }
  return candidate;
}

function checkTransport(transport: unknown): HttpTransport {
  if (transport === undefined) return fetchTransport;
  if (typeof transport !== "function") {
    throw new ConfigurationError("'transport' must be a fetch-shaped function: (url, init) => Promise<Response>.");
  }
  return transport as HttpTransport;
}

/** The longest delay timers accept (`setTimeout` fires at once beyond it): about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkDuration(value: unknown, name: string, fallback: number, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0 && value <= MAX_TIMER_MS) || (!zeroAllowed && value === 0)) {
    throw new ConfigurationError(
      `'${name}' must be a ${zeroAllowed ? "non-negative" : "positive"} number of milliseconds, at most ${MAX_TIMER_MS} (about 24 days).`,
    );
  }
  // Whole milliseconds: AbortSignal.timeout refuses fractions.
  return Math.ceil(value);
}

function checkCount(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`'${name}' must be a positive integer.`);
  }
  return value;
}

function checkRetry(retry: RetryOptions | undefined): Required<RetryOptions> {
  if (retry !== undefined && (retry === null || typeof retry !== "object")) {
    throw new ConfigurationError("'retry' must be an object: { maxAttempts, baseDelayMs, maxDelayMs }.");
  }
  if (retry !== undefined) checkKnownKeys(retry, KNOWN_RETRY_OPTIONS, "retry.");
  return {
    maxAttempts: checkCount(retry?.maxAttempts, "retry.maxAttempts", DEFAULTS.retry.maxAttempts),
    baseDelayMs: checkDuration(retry?.baseDelayMs, "retry.baseDelayMs", DEFAULTS.retry.baseDelayMs, true),
    maxDelayMs: checkDuration(retry?.maxDelayMs, "retry.maxDelayMs", DEFAULTS.retry.maxDelayMs, true),
  };
}

function checkCorrelationId(correlationId: unknown): string {
  // Sent as the client-request-id header: visible ASCII only, or fetch refuses the request.
  if (typeof correlationId !== "string" || !/^[\x21-\x7e]{1,256}$/.test(correlationId)) {
    throw new InvalidRequestError("'correlationId' must be 1 to 256 visible ASCII characters, e.g. a UUID.");
  }
  return correlationId;
}

function checkSignal(signal: unknown): void {
  const candidate = signal as Partial<AbortSignal> | null | undefined;
  if (signal !== undefined && (typeof candidate?.aborted !== "boolean" || typeof candidate.addEventListener !== "function")) {
    throw new InvalidRequestError("'signal' must be an AbortSignal, e.g. AbortSignal.timeout(5000).");
  }
}

function checkClaims(claims: unknown): string {
  if (typeof claims === "string") {
    try {
      const parsed: unknown = JSON.parse(claims);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return claims;
    } catch {
      // fall through to the error below
    }
  }
  throw new InvalidRequestError(
    "'claims' must be a JSON object string, as decoded from the base64 'claims' of a WWW-Authenticate challenge.",
  );
}

import type { AccessTokenResult } from "../client-types.js";
import { ConfigurationError, InvalidResponseError } from "../errors.js";
import { redacted } from "../redacted.js";
import type { AcquisitionSettings } from "./settings.js";
import { createCachedToken, keyPrefix, tokenCacheKey, TokenIndex, type CachedToken } from "../lib/cached-token.js";
import { TokenResult } from "../lib/token-result.js";
import { describeError } from "../lib/describe-error.js";
import { raceAbort } from "../lib/http.js";
import { isBearerToken } from "../lib/token-response.js";
import { fleetBackoffError, fleetFailure, isFleetFailure } from "./fleet-backoff.js";
import { RequestGates } from "./gates.js";
import { callHook, errorFields } from "./telemetry.js";
import { SharedStore } from "./shared-store.js";
import { SingleFlight } from "./single-flight.js";
import type { FetchedToken, TokenFetcher } from "./token-fetcher.js";
import { tokenTarget, type TokenTarget } from "./token-target.js";
import { flightMode, newCorrelationId, type AcquireOptions, type FlightMode } from "./acquire-options.js";

/**
 * The acquisition machinery around a {@link TokenFetcher}, the same for every token
 * source: the in-process index (an allocation-free hit), single-flight per key, the
 * request gates, the shared store with its cross-process lock, a proactive refresh in the
 * background past the token's refresh time, and serve-stale when a refresh fails while
 * the cached token is still valid.
 *
 * For token-source authors: build the settings with {@link resolveAcquisitionSettings},
 * supply only the fetch, and answer requests with {@link cached} then {@link acquire}.
 *
 * @example
 * const settings = resolveAcquisitionSettings(options);
 * const acquirer = new TokenAcquirer(myFetcher, settings);
 * const target = acquirer.target(tenantId, [scope]);
 * const { accessToken } = await acquirer.acquire(target, { signal });
 */
export class TokenAcquirer {
  /** The in-process tokens: O(1) on a hit, no serialization, no key built. */
  private readonly index: TokenIndex;
  private readonly flights = new SingleFlight<AccessTokenResult>();
  private readonly gates: RequestGates;
  private readonly shared: SharedStore | undefined;
  /** `authority|client|`: the key prefix up to the tenant. */
  private readonly keyPrefix: string;
  private readonly lifetime = new AbortController();
  /** The scopes of the latest target, see {@link target}. */
  private lastScopes: readonly string[] = [];

  constructor(
    private readonly fetcher: TokenFetcher,
    private readonly settings: AcquisitionSettings,
  ) {
    this.index = new TokenIndex(settings.maxCachedTokens);
    this.gates = new RequestGates(settings.clock, settings.errorCacheMs);
    this.keyPrefix = keyPrefix(fetcher.authority, fetcher.clientId);
    this.shared =
      settings.store === undefined
        ? undefined
        : new SharedStore(settings.store, {
            clock: settings.clock,
            logger: settings.logger,
            timeoutMs: settings.storeTimeoutMs,
            authority: fetcher.authority,
            clientId: fetcher.clientId,
            signal: this.lifetime.signal,
            onError: settings.telemetry?.onStoreError === undefined ? undefined : (operation, error) => this.reportStoreError(operation, error),
          });
    redacted(this, `TokenAcquirer(${fetcher.kind}, clientId=${fetcher.clientId}, authority=${fetcher.authority})`);
  }

  /** The target of `tenantId` and `scopes`, both already normalized by the caller. */
  target(tenantId: string, scopes: readonly string[]): TokenTarget {
    // Consecutive targets of the same scopes share one frozen list, and so do their tokens:
    // ~56 bytes a token for a daemon going round many tenants with one resource.
    const last = this.lastScopes;
    if (last.length === scopes.length && last.every((scope, i) => scope === scopes[i])) return tokenTarget(this.keyPrefix, tenantId, last);
    this.lastScopes = Object.freeze([...scopes]);
    return tokenTarget(this.keyPrefix, tenantId, this.lastScopes);
  }

  /**
   * The hot path: the cached answer for a tenant and scope key as the index holds them,
   * starting a background refresh when it is due; `undefined` on a miss. A tenant and
   * scope are in the index only if they passed validation when the token was stored, so
   * the caller may pass raw strings: a hit needs no validation, builds no key and
   * allocates nothing.
   */
  cached(tenantId: string, scopeKey: string): AccessTokenResult | undefined {
    const cached = this.index.get(tenantId, scopeKey);
    if (cached === undefined) return undefined;
    const now = this.settings.clock.now();
    if (TokenResult.beforeRefresh(cached, now)) return cached;
    if (now >= TokenResult.usableUntil(cached)) return undefined;
    this.refreshInBackground(cached);
    return cached;
  }

  /** A token for `target`: from the index, the shared store or the fetcher, as `options` allow. */
  async acquire(target: TokenTarget, options: AcquireOptions): Promise<AccessTokenResult> {
    if (options.forceRefresh !== true && options.claims === undefined) {
      const hit = this.cached(target.tenantId, target.scopeKey);
      if (hit !== undefined) return hit;
    }
    if (this.lifetime.signal.aborted) {
      throw new ConfigurationError("This client was disposed; create a new one to acquire tokens.");
    }
    const mode = flightMode(options);
    // Concurrent callers with the same needs share one flight; a forced or claims
    // request never joins a plain one, since it must not be answered from cache.
    const flightKey = mode.claims !== undefined ? `${target.key}|claims=${mode.claims}` : mode.bypassRead ? `${target.key}|force` : target.key;
    return raceAbort(
      this.flights.run(flightKey, () => this.acquireShared(target, mode)),
      options.signal,
    );
  }

  /** The cache key of a token: what telemetry reports and the shared store is keyed by. */
  cacheKey(tenantId: string, scopes: readonly string[]): string {
    return this.target(tenantId, scopes).key;
  }

  /** Forgets every token in the index, remembered failures and refresh pauses. */
  clear(): void {
    this.index.clear();
    this.gates.clear();
  }

  /** Stops background refreshes and lock waits, forgets the index and disposes the fetcher. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort(new ConfigurationError("The client was disposed."));
    this.clear();
    await this.fetcher.dispose?.();
  }

  private refreshInBackground(cached: CachedToken): void {
    const scopeKey = TokenResult.scopeKey(cached);
    const key = tokenCacheKey(this.keyPrefix, cached.tenantId, scopeKey);
    if (this.flights.has(key) || this.lifetime.signal.aborted || this.gates.refreshPaused(key, this.settings.clock.now())) return;
    const target: TokenTarget = { key, tenantId: cached.tenantId, scopes: cached.scopes, scopeKey };
    const correlationId = newCorrelationId();
    const flight = this.flights.run(target.key, () => this.acquireShared(target, { bypassRead: false, claims: undefined, correlationId, returnClientRequestId: false }));
    if (this.settings.telemetry?.onBackgroundRefresh !== undefined) this.reportBackgroundRefresh(flight, cached);
    flight.catch((error: unknown) => {
      this.settings.logger?.warn?.("daemon-auth: background token refresh failed; the cached token is still served", {
        tenant: target.tenantId,
        scope: target.scopeKey,
        error: describeError(error),
        correlationId,
      });
    });
  }

  /**
   * `onBackgroundRefresh`: started, then failed when the flight fails or only the held
   * token could be served (the refresh itself failed), else succeeded.
   */
  private reportBackgroundRefresh(flight: Promise<AccessTokenResult>, held: CachedToken): void {
    const { telemetry, logger } = this.settings;
    const report = (phase: "started" | "succeeded" | "failed", errorCode?: string): void => {
      callHook(logger, "onBackgroundRefresh", () => telemetry?.onBackgroundRefresh?.({ phase, errorCode }));
    };
    report("started");
    flight.then(
      (result) => {
        report(result === held ? "failed" : "succeeded");
      },
      (error: unknown) => {
        report("failed", errorFields(error).errorCode);
      },
    );
  }

  private reportStoreError(operation: string, error: unknown): void {
    const { telemetry, logger, store } = this.settings;
    const { errorCode } = errorFields(error);
    callHook(logger, "onStoreError", () => telemetry?.onStoreError?.({ operation, store: store?.name, errorCode }));
  }

  /**
   * Past the index: the shared store, then its lock, then the fetcher; a token that is
   * still valid is served when the refresh fails.
   */
  private async acquireShared(target: TokenTarget, mode: FlightMode): Promise<AccessTokenResult> {
    const stale = this.index.get(target.tenantId, target.scopeKey);
    try {
      const shared = mode.bypassRead ? undefined : this.shared;
      if (shared !== undefined) {
        const fresh = await this.readShared(shared, target, stale);
        if (fresh) return fresh;
      }
      const now = this.settings.clock.now();
      if (!mode.bypassRead && stale !== undefined && now < TokenResult.expiresAt(stale) && this.gates.refreshPaused(target.key, now)) {
        return stale;
      }
      // The fleet's backoff is a network gate: it holds for forced and claims requests too.
      this.gates.checkFleet(target.key, now);
      let result: AccessTokenResult;
      if (shared?.canLock === true) {
        result = await this.fetchUnderLock(shared, target, mode, stale);
      } else {
        if (this.shared !== undefined) await this.checkFleetMarker(this.shared, target);
        result = await this.fetchAndStore(target, mode);
      }
      this.gates.refreshSucceeded(target.key);
      return result;
    } catch (error) {
      const now = this.settings.clock.now();
      // A claims request means the resource has just rejected the cached token: it must not be served again.
      // NaN when nothing is held: no time is before it.
      const staleExpiry = stale === undefined ? Number.NaN : TokenResult.expiresAt(stale);
      const servable = mode.claims === undefined && now < staleExpiry;
      if (stale !== undefined && servable && this.index.get(target.tenantId, target.scopeKey) === stale) {
        this.gates.pauseRefresh(target.key, staleExpiry, error);
        this.settings.logger?.warn?.("daemon-auth: token refresh failed; serving the cached token until it expires", {
          tenant: target.tenantId,
          scope: target.scopeKey,
          expiresOn: new Date(staleExpiry).toISOString(),
          error: describeError(error),
        });
        return stale;
      }
      throw error;
    }
  }

  /** A store entry answers when it is newer than what this process holds. */
  private async readShared(shared: SharedStore, target: TokenTarget, stale: CachedToken | undefined): Promise<AccessTokenResult | undefined> {
    const token = await shared.get(target);
    if (token === undefined) return undefined;
    const now = this.settings.clock.now();
    const fresh = TokenResult.beforeRefresh(token, now) || (stale === undefined && now < TokenResult.usableUntil(token));
    if (!fresh) return undefined;
    this.index.set(token);
    return TokenResult.as(token, "shared-cache");
  }

  private fetchUnderLock(shared: SharedStore, target: TokenTarget, mode: FlightMode, stale: CachedToken | undefined): Promise<AccessTokenResult> {
    // The lock lives as long as one fetch may take, all attempts and backoff included.
    const { requestTimeoutMs, retry } = this.settings;
    const ttlMs = requestTimeoutMs * retry.maxAttempts + retry.maxDelayMs;
    return shared.underLock(target, ttlMs, requestTimeoutMs, {
      // Read while waiting and once the lock is ours: the holder writes its failure marker
      // before it releases the lock, so the waiters back off with it instead of retrying.
      readFresh: async () => (await this.readShared(shared, target, stale)) ?? (await this.checkFleetMarker(shared, target)),
      fetch: () => this.fetchAndStore(target, { ...mode, claims: undefined }),
    });
  }

  /** Throws the fleet's backoff error while a failure marker of the target is in force in the store. */
  private async checkFleetMarker(shared: SharedStore, target: TokenTarget): Promise<undefined> {
    const now = this.settings.clock.now();
    this.gates.checkFleet(target.key, now);
    const failure = await shared.getFailure(target, now);
    if (failure === undefined) return undefined;
    this.gates.rememberFleetFailure(target.key, failure);
    throw fleetBackoffError(failure);
  }

  /**
   * After a failed fetch that says something about the token endpoint, every process
   * sharing the store backs off with this one: the marker holds the backoff this process
   * takes itself, and is written before the refresh lock is released.
   */
  private async shareFailure(target: TokenTarget, error: unknown): Promise<void> {
    const shared = this.shared;
    if (shared === undefined || !isFleetFailure(error)) return;
    const now = this.settings.clock.now();
    const held = this.index.get(target.tenantId, target.scopeKey);
    const heldExpiry = held === undefined ? undefined : TokenResult.expiresAt(held);
    const until = this.gates.backoffUntil(heldExpiry !== undefined && now < heldExpiry ? heldExpiry : undefined, error);
    const failure = fleetFailure(error, now, until);
    this.gates.rememberFleetFailure(target.key, failure);
    await shared.setFailure(target, failure);
  }

  private async fetchAndStore(target: TokenTarget, mode: FlightMode): Promise<AccessTokenResult> {
    const { token, tokenEndpoint } = await this.fetchToken(target, mode);
    this.index.set(token);
    if (this.shared !== undefined) await this.shared.set(target, token);
    // Only this answer names the endpoint: the cached token's own result (a hit) stays as built, shared by every hit.
    return TokenResult.as(token, "network", tokenEndpoint);
  }

  private async fetchToken(target: TokenTarget, mode: FlightMode): Promise<{ token: CachedToken; tokenEndpoint: string | undefined }> {
    const { claims, correlationId, returnClientRequestId } = mode;
    this.gates.checkNetwork(target.key);
    const { clock } = this.settings;
    const calledAt = clock.now();
    let fetched: FetchedToken;
    try {
      fetched = await this.fetcher.fetchToken(target, {
        claims,
        correlationId,
        signal: this.lifetime.signal,
        clock,
        pauseUntil: (until) => this.gates.pause(target.key, until),
        returnClientRequestId,
      });
    } catch (error) {
      this.gates.recordFailure(target.key, error);
      await this.shareFailure(target, error);
      throw error;
    }
    checkFetched(fetched, this.fetcher.kind);
    const response = { accessToken: fetched.accessToken, tokenType: fetched.tokenType, expiresIn: fetched.expiresIn, refreshIn: fetched.refreshIn };
    const token = createCachedToken(response, fetched.sentAt ?? calledAt, this.settings.lifetime, target.scopes, target.tenantId, correlationId);
    return { token, tokenEndpoint: typeof fetched.tokenEndpoint === "string" ? fetched.tokenEndpoint : undefined };
  }
}

/** A fetcher is a package's code, but what it returns came from a server: checked like a token response. */
function checkFetched(fetched: FetchedToken, kind: string): void {
  if (!isBearerToken(fetched.accessToken)) {
    throw new InvalidResponseError(`The ${kind} token source returned an access token a bearer token cannot carry; it was refused and not cached.`);
  }
  if (typeof fetched.expiresIn !== "number" || !(fetched.expiresIn > 0)) {
    throw new InvalidResponseError(`The ${kind} token source returned no positive lifetime ('expiresIn'); the token's lifetime is unknown.`);
  }
}

import type { StoreLock, TokenCacheStore } from "../cache-store.js";
import type { Clock, Logger } from "../seams.js";
import { CacheError } from "../errors.js";
import { deserializeToken, serializeToken, type CachedToken } from "../lib/cached-token.js";
import { TokenResult } from "../lib/token-result.js";
import { describeError } from "../lib/describe-error.js";
import { sleepOn } from "../lib/http.js";
import { fleetFailureKey, parseFleetFailure, serializeFleetFailure, type FleetFailure } from "./fleet-backoff.js";
import type { TokenTarget } from "./token-target.js";

/** How often a process waiting on another's refresh lock looks at the shared store. */
const LOCK_POLL_MS = { first: 20, max: 250 } as const;

/**
 * The longest fleet backoff a failure marker read from the store is honoured for, whatever
 * it says: longer than any backoff core writes short of a long `Retry-After`.
 */
const MAX_FLEET_BACKOFF_MS = 5 * 60_000;

/** What {@link SharedStore} needs besides the store. */
export interface SharedStoreSettings {
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  /** The deadline of one store call (`storeTimeoutMs`). */
  readonly timeoutMs: number;
  /** Whose tokens these are: written into every entry and compared on every read. */
  readonly authority: string;
  readonly clientId: string;
  /** Fires when the client is disposed: ends a wait for another process's lock. */
  readonly signal: AbortSignal;
  /** Told of every failed store call (telemetry); must not throw. */
  readonly onError?: ((operation: string, error: unknown) => void) | undefined;
}

/** The steps of {@link SharedStore.underLock}. */
export interface LockedFetch<T> {
  /** The answer another process has written to the store, if there is one yet. */
  readonly readFresh: () => Promise<T | undefined>;
  /** Fetches from the network (and stores the result). */
  readonly fetch: () => Promise<T>;
}

/**
 * Coordination through a shared {@link TokenCacheStore}: reads checked against the
 * token's identity, writes, the cross-process refresh lock and the wait for another
 * process's result.
 *
 * The store is an optimisation: every call has a deadline (`storeTimeoutMs`), and a call
 * that fails or times out counts as a miss, so acquisition goes on through the network.
 * The failure is logged once until the store answers again.
 */
export class SharedStore {
  private healthy = true;

  constructor(
    private readonly store: TokenCacheStore,
    private readonly settings: SharedStoreSettings,
  ) {}

  /** Whether the store can take a cross-process refresh lock. */
  get canLock(): boolean {
    return typeof this.store.lock === "function";
  }

  /** The target's entry, or `undefined` when missing, unreadable, not exactly this identity's, or the store failed. */
  async get(target: TokenTarget): Promise<CachedToken | undefined> {
    try {
      const value = await this.call("get", () => this.store.get(target.key));
      this.recovered();
      if (value === undefined) return undefined;
      // The full identity is compared too: a key is only an address, not a proof of whose token it holds.
      const { authority, clientId } = this.settings;
      const token = deserializeToken(value, { authority, clientId, tenantId: target.tenantId, scopes: target.scopes });
      if (token === undefined) this.settings.logger?.debug?.("daemon-auth: ignoring an unreadable shared cache entry", { tenant: target.tenantId });
      return token;
    } catch (error) {
      this.failed("get", error);
      return undefined;
    }
  }

  /** Writes `token` under the target's key until it expires; a failing store is logged, not thrown. */
  async set(target: TokenTarget, token: CachedToken): Promise<void> {
    try {
      const value = serializeToken(token, this.settings.authority, this.settings.clientId);
      await this.call("set", () => this.store.set(target.key, value, TokenResult.expiresAt(token)));
      this.recovered();
    } catch (error) {
      this.failed("set", error);
    }
  }

  /**
   * The fleet's failure marker of the target's entry while it is in force at `now`;
   * `undefined` when there is none, it has passed, it is unreadable or the store failed.
   * Read on the slow path only, never on a cache hit.
   */
  async getFailure(target: TokenTarget, now: number): Promise<FleetFailure | undefined> {
    try {
      const value = await this.call("get", () => this.store.get(fleetFailureKey(target.key)));
      this.recovered();
      const failure = value === undefined ? undefined : parseFleetFailure(value);
      if (failure === undefined || now >= failure.until) return undefined;
      // A store is not trusted: a marker far in the future must not stop refreshes for long.
      return failure.until - now > MAX_FLEET_BACKOFF_MS ? { ...failure, until: now + MAX_FLEET_BACKOFF_MS } : failure;
    } catch (error) {
      this.failed("get", error);
      return undefined;
    }
  }

  /** Writes the fleet's failure marker beside the target's entry; it expires by itself at `failure.until`. */
  async setFailure(target: TokenTarget, failure: FleetFailure): Promise<void> {
    try {
      await this.call("set", () => this.store.set(fleetFailureKey(target.key), serializeFleetFailure(failure), failure.until));
      this.recovered();
    } catch (error) {
      this.failed("set", error);
    }
  }

  /**
   * One process per key fetches; the others wait for its result in the store and take
   * over when the holder dies (its lock expires) or takes longer than `ttlMs` plus one
   * `requestTimeoutMs` (`graceMs`). Waits run on the injected clock.
   */
  async underLock<T>(target: TokenTarget, ttlMs: number, graceMs: number, steps: LockedFetch<T>): Promise<T> {
    const { clock, signal } = this.settings;
    const deadline = clock.now() + ttlMs + graceMs;
    let pause: number = LOCK_POLL_MS.first;
    for (;;) {
      const lock = await this.lock(target.key, ttlMs);
      if (lock !== "busy") {
        try {
          // Another process may have written between our read and our lock.
          return (await steps.readFresh()) ?? (await steps.fetch());
        } finally {
          // A broken store's lock must not turn a token into an error.
          if (lock !== undefined) await this.call("release", () => lock.release()).catch((error: unknown) => this.settings.onError?.("release", error));
        }
      }
      if (clock.now() >= deadline) break;
      await sleepOn(clock, pause, signal);
      pause = Math.min(pause * 2, LOCK_POLL_MS.max);
      const shared = await steps.readFresh();
      if (shared !== undefined) return shared;
    }
    this.settings.logger?.warn?.("daemon-auth: the process holding the refresh lock did not deliver a token in time; fetching", {
      tenant: target.tenantId,
    });
    return steps.fetch();
  }

  /** The lock, `undefined` when the store failed (fetch without it), or `"busy"`. */
  private async lock(key: string, ttlMs: number): Promise<StoreLock | undefined | "busy"> {
    const store = this.store;
    const taking = Promise.resolve().then(() => store.lock?.(key, { ttlMs }));
    try {
      return (await this.call("lock", () => taking)) ?? "busy";
    } catch (error) {
      // A lock granted after we stopped waiting would block every other process until its ttl.
      taking.then((late) => late?.release(), () => undefined).catch(() => undefined);
      this.failed("lock", error);
      return undefined;
    }
  }

  /**
   * A store call with a deadline: a store that never answers (a dead connection, a FIFO
   * planted in a cache directory) fails like one that throws, after `storeTimeoutMs`.
   * A late answer is dropped; a late rejection is handled here, not left unhandled.
   * The deadline is a real timer, not the injected clock: it bounds real I/O.
   */
  private call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const { timeoutMs } = this.settings;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new CacheError(
            `The ${this.store.name ?? "token cache"} store did not answer '${operation}' within ${String(timeoutMs)} ms ('storeTimeoutMs'); check the store.`,
          ),
        );
      }, timeoutMs);
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

  private failed(operation: string, error: unknown): void {
    this.settings.onError?.(operation, error);
    if (!this.healthy) return;
    this.healthy = false;
    this.settings.logger?.warn?.("daemon-auth: the shared token cache is unavailable; using the in-process cache and the network", {
      store: this.store.name,
      error: describeError(error),
    });
  }

  private recovered(): void {
    if (this.healthy) return;
    this.healthy = true;
    this.settings.logger?.info?.("daemon-auth: the shared token cache is available again", { store: this.store.name });
  }
}

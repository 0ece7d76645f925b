/**
 * The seam for token storage shared across clients, processes or restarts. Core
 * serializes entries; stores only store strings. Expiry is an absolute timestamp.
 */

/** A held cross-process lock. */
export interface StoreLock {
  /** Releases the lock if this holder still owns it. Safe to call twice; never throws. */
  release(): Promise<void>;
}

/** Options for {@link TokenCacheStore.lock}. */
export interface StoreLockOptions {
  /**
   * How long the lock lives if its holder dies without releasing it, in milliseconds.
   * Another process may take the lock after that.
   */
  readonly ttlMs: number;
}

/**
 * Stores serialized token cache entries under string keys.
 *
 * Contract (checked by `@daemon-auth/conformance`):
 * - `get` of a missing or expired key resolves `undefined`;
 * - `set` with an `expiresAt` that has already passed is accepted and stores nothing;
 * - keys may contain any characters; stores must not let a key escape their namespace;
 * - `dispose` may be called more than once.
 *
 * Core's side of the contract: keys are `authority|clientId|tenant|scopes` with `|` and
 * `%` percent-encoded inside each part, so distinct identities never share a key; every
 * entry also names its identity and is read as a miss when it is not the one asked for;
 * and every call gets a deadline (`storeTimeoutMs`), after which the store counts as
 * failing for that call and the token endpoint answers.
 */
export interface TokenCacheStore {
  /** A short name for logs, e.g. `"redis"`. */
  readonly name?: string;
  /** The value stored under `key`, or `undefined` when missing or expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` until `expiresAt` (milliseconds since the epoch). */
  set(key: string, value: string, expiresAt: number): Promise<void>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Tries to take the refresh lock for `key` without waiting: resolves a {@link StoreLock}
   * when taken, `undefined` when another holder has it. Stores shared across
   * processes implement it so that N processes make one token request per refresh.
   */
  lock?(key: string, options: StoreLockOptions): Promise<StoreLock | undefined>;
  /** Releases connections and handles. Safe to call twice. */
  dispose?(): Promise<void>;
}

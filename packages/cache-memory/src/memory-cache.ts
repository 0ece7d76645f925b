import {
  CacheError,
  systemClock,
  type Clock,
  type StoreLock,
  type StoreLockOptions,
  type TokenCacheStore,
} from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";

/** The arguments of a store's `lock()`, in the option dialect. */
const LOCK_CHECK = optionChecks("memoryCache.lock");

/** Options of {@link createMemoryCache}. */
export interface MemoryCacheOptions {
  /**
   * Most entries kept. Past it, expired entries are dropped first, then the least
   * recently used one.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * The time source for expiry and lock ttls; inject one in tests.
   * @default systemClock
   */
  clock?: Clock;
}

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
}

interface LockHolder {
  readonly expiresAt: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * A bounded, in-process LRU {@link TokenCacheStore}. Share one instance between the
 * clients of a process: its `lock()` makes them send one token request per key.
 * Entries live until their absolute `expiresAt`; get, set and delete are O(1).
 *
 * @example
 * const cache = createMemoryCache({ maxEntries: 1000 });
 * const graph = createDaemonClient({ tenantId, clientId, credential, cache });
 * const billing = createDaemonClient({ tenantId, clientId: billingClientId, credential: billingCredential, cache });
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): TokenCacheStore {
  const check = optionChecks("createMemoryCache");
  const maxEntries = check.positiveInteger("maxEntries", options.maxEntries, DEFAULT_MAX_ENTRIES, { example: `{ maxEntries: ${DEFAULT_MAX_ENTRIES} }` });
  const clock = check.clock("clock", options.clock, systemClock);

  // A Map iterates in insertion order: re-inserting on every hit keeps the least
  // recently used entry first, so eviction is O(1) without a linked list.
  const entries = new Map<string, Entry>();
  const locks = new Map<string, LockHolder>();
  // Sweeping expired entries is O(n); allowing it once per quarter of the capacity
  // of writes keeps set() amortised O(1) even when nothing has expired.
  const sweepInterval = Math.max(1, Math.ceil(maxEntries / 4));
  let writesSinceSweep = sweepInterval;
  let lockWritesSinceSweep = sweepInterval;

  const sweepExpired = (now: number): void => {
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= now) entries.delete(key);
    }
    writesSinceSweep = 0;
  };

  const makeRoom = (now: number): void => {
    if (entries.size < maxEntries) return;
    if (writesSinceSweep >= sweepInterval) sweepExpired(now);
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done === true) break;
      entries.delete(oldest.value);
    }
  };

  const store: TokenCacheStore = {
    name: "memory",

    async get(key) {
      assertKey(key, "get");
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= clock.now()) {
        entries.delete(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },

    async set(key, value, expiresAt) {
      assertKey(key, "set");
      if (typeof value !== "string") {
        throw new CacheError(`memory cache: set() stores strings only; serialize the entry first (got ${describeValue(value)}).`);
      }
      assertTimestamp(expiresAt);
      const now = clock.now();
      // Delete first so an overwrite moves the key to the most recently used end and
      // an already-expired write leaves no older value behind.
      entries.delete(key);
      if (expiresAt <= now) return;
      writesSinceSweep++;
      makeRoom(now);
      entries.set(key, { value, expiresAt });
    },

    async delete(key) {
      assertKey(key, "delete");
      entries.delete(key);
    },

    async lock(key: string, lockOptions: StoreLockOptions): Promise<StoreLock | undefined> {
      assertKey(key, "lock");
      const ttlMs = LOCK_CHECK.requiredMilliseconds("ttlMs", lockOptions?.ttlMs, { example: "30000" });
      const now = clock.now();
      const current = locks.get(key);
      if (current !== undefined && current.expiresAt > now) return undefined;
      if (current === undefined && locks.size >= maxEntries && ++lockWritesSinceSweep >= sweepInterval) {
        // Holders that died without releasing leave expired locks behind; bound them like entries.
        for (const [lockedKey, holder] of locks) {
          if (holder.expiresAt <= now) locks.delete(lockedKey);
        }
        lockWritesSinceSweep = 0;
      }
      // Each acquisition is a distinct object, so a stale holder's release cannot
      // free a lock that another holder took after the ttl passed.
      const holder: LockHolder = { expiresAt: now + ttlMs };
      locks.set(key, holder);
      return {
        async release() {
          if (locks.get(key) === holder) locks.delete(key);
        },
      };
    },

    async dispose() {
      entries.clear();
      locks.clear();
    },
  };
  return store;
}

function assertKey(key: unknown, method: string): asserts key is string {
  if (typeof key !== "string") {
    throw new CacheError(`memory cache: ${method}() needs a string key; got ${describeValue(key)}.`);
  }
}

function assertTimestamp(expiresAt: unknown): asserts expiresAt is number {
  if (typeof expiresAt !== "number" || Number.isNaN(expiresAt)) {
    throw new CacheError(
      `memory cache: set() needs expiresAt as milliseconds since the epoch (for example Date.now() + 3_600_000); got ${describeValue(expiresAt)}.`,
    );
  }
}

/** Names a value's type (and a number's value) without echoing strings, which may be secret. */
function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (value === null) return "null";
  return typeof value;
}

import type { StoreLock, TokenCacheStore } from "../../src/index.js";

/** One `set` as the store received it. */
export interface StoredEntry {
  value: string;
  expiresAt: number;
}

/**
 * A plain in-memory {@link TokenCacheStore} that records what core hands it, for tests
 * that assert on keys, values and expiries. Stores with real backends are tested against
 * core in their own packages and in `@daemon-auth/conformance`.
 */
export function mapStore(): TokenCacheStore & { readonly data: Map<string, StoredEntry>; gets: number } {
  const data = new Map<string, StoredEntry>();
  const store = {
    name: "map",
    data,
    gets: 0,
    get(key: string): Promise<string | undefined> {
      store.gets += 1;
      return Promise.resolve(data.get(key)?.value);
    },
    set(key: string, value: string, expiresAt: number): Promise<void> {
      data.set(key, { value, expiresAt });
      return Promise.resolve();
    },
    delete(key: string): Promise<void> {
      data.delete(key);
      return Promise.resolve();
    },
  };
  return store;
}

/** A store that never answers: every call returns a promise that never settles. */
export function hangingStore(): Required<Omit<TokenCacheStore, "dispose">> & { calls: string[] } {
  const calls: string[] = [];
  const never = <T>(operation: string): Promise<T> => {
    calls.push(operation);
    return new Promise<T>(() => undefined);
  };
  return {
    name: "hanging",
    calls,
    get: () => never("get"),
    set: () => never("set"),
    delete: () => never("delete"),
    lock: () => never<StoreLock | undefined>("lock"),
  };
}

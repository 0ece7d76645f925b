// Placeholder: written by the cache helper (AES-GCM encryption at rest shared by the file and Redis stores).
import type { TokenCacheStore } from "./cache-store.js";

/** Options of {@link encryptedStore}. */
export interface EncryptedStoreOptions {
  /** A 32-byte AES-256 key. */
  key: Uint8Array;
}

/** Wraps `store` so values are encrypted at rest. */
export function encryptedStore(store: TokenCacheStore, _options: EncryptedStoreOptions): TokenCacheStore {
  return store;
}

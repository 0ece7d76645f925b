// The store module each shared-store child process loads (see shared-redis.ts).
import { createRedisCache } from "@daemon-auth/cache-redis";
import type { TokenCacheStore } from "@daemon-auth/core";

/** A Redis token cache at `url`. */
export function createStore(url: string): TokenCacheStore {
  return createRedisCache({ url });
}

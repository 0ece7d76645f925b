import { createMemoryCache } from "@daemon-auth/cache-memory";
import { describeTokenCacheStore } from "../src/index.js";

// The reference store: the suite must pass against it, lock group included.
describeTokenCacheStore("@daemon-auth/cache-memory", () => ({ store: createMemoryCache() }), { lock: true, expiryResolutionMs: 200 });

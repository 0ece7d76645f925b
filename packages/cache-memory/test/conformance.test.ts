import { describeTokenCacheStore } from "@daemon-auth/conformance";
import { createMemoryCache } from "../src/index.js";

describeTokenCacheStore("memory", () => ({ store: createMemoryCache() }), { lock: true, expiryResolutionMs: 200 });

describeTokenCacheStore("memory (bounded to 64 entries)", () => ({ store: createMemoryCache({ maxEntries: 64 }) }), {
  lock: true,
  expiryResolutionMs: 200,
});

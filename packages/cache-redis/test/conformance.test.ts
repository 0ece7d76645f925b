import { randomBytes, randomUUID } from "node:crypto";
import { describeTokenCacheStore } from "@daemon-auth/conformance";
import { startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { afterAll, beforeAll } from "vitest";
import { createRedisCache } from "../src/index.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

// A fresh prefix per test: one server, stores that never see each other's entries.
// The suite checks semantics, not latency: a generous timeout keeps a busy CI machine
// from turning a slow connect into a failure (timeouts are tested in redis-cache.test.ts).
const SEMANTICS_TIMEOUT_MS = 5_000;

describeTokenCacheStore("redis", () => ({ store: createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:`, commandTimeoutMs: SEMANTICS_TIMEOUT_MS }) }), {
  lock: true,
});

describeTokenCacheStore(
  "redis, encrypted",
  () => ({
    store: createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:`, encryptionKey: randomBytes(32), commandTimeoutMs: SEMANTICS_TIMEOUT_MS }),
  }),
  { lock: true },
);

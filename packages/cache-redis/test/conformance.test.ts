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
describeTokenCacheStore("redis", () => ({ store: createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:` }) }), {
  lock: true,
});

describeTokenCacheStore(
  "redis, encrypted",
  () => ({
    store: createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:`, encryptionKey: randomBytes(32) }),
  }),
  { lock: true },
);

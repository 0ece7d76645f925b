import { randomUUID } from "node:crypto";
import { createDaemonClient, type DaemonClient, type TokenCacheStore } from "@daemon-auth/core";
import { expectValidEmulatorToken } from "@daemon-auth/conformance";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRedisCache } from "../src/index.js";

const ids = demoEmulatorIdentities;
let emulator: Emulator;
let redis: RedisServer;
let store: TokenCacheStore;
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  unhandled.length = 0;
  process.on("unhandledRejection", recordUnhandled);
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  redis = await startRedisServer();
  store = createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:` });
});
afterEach(async () => {
  await store.dispose?.();
  await redis.stop();
  await emulator.close();
  process.off("unhandledRejection", recordUnhandled);
  expect(unhandled, "unhandled rejections during the test").toEqual([]);
});

/** A client with a cold in-process cache, as a freshly started daemon has. */
function coldClient(cache: TokenCacheStore = store): DaemonClient {
  return createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: clientSecret(ids.daemonClientSecret),
    cache,
  });
}

/** A hang guard, not a performance assertion: a stuck acquisition fails the test with a reason. */
async function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${String(ms)} ms`)), ms);
  });
  try {
    return await Promise.race([promise, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

async function acquireCold(cache: TokenCacheStore = store): Promise<{ source: string; accessToken: string }> {
  const client = coldClient(cache);
  try {
    return await settlesWithin(client.acquireTokenForClient({ scopes: [ids.apiScope] }), 10_000);
  } finally {
    await client.dispose();
  }
}

const expected = (): { jwksUri: string; clientId: string } => ({ jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId });

/** Acquires with cold clients until one is answered by the shared store: Redis is usable again. */
async function untilServedByStore(cache: TokenCacheStore = store): Promise<{ source: string; accessToken: string }> {
  const deadline = Date.now() + 15_000;
  let result = await acquireCold(cache);
  while (result.source !== "shared-cache" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    result = await acquireCold(cache);
  }
  return result;
}

async function usedMemory(): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(String(await redis.command("INFO", "memory")))?.[1]);
}

describe("createDaemonClient with createRedisCache: Redis faults", () => {
  it("falls back to the token endpoint while Redis is down, and uses the store again once it is back", { timeout: 60_000 }, async () => {
    const first = await acquireCold();
    expect(first.source).toBe("network");
    expect((await acquireCold()).source).toBe("shared-cache");

    await redis.stop();
    const before = emulator.tokenRequestCount();
    const results = await Promise.all([acquireCold(), acquireCold(), acquireCold()]);
    for (const result of results) {
      expect(result.source).toBe("network");
      await expectValidEmulatorToken(result.accessToken, expected());
    }
    expect(emulator.tokenRequestCount()).toBeGreaterThan(before);

    // The restarted server is empty; once the store reconnects, one client writes and the next reads.
    await redis.restart();
    const result = await untilServedByStore();
    expect(result.source).toBe("shared-cache");
    await expectValidEmulatorToken(result.accessToken, expected());
  });

  it("keeps serving a warm client from its in-process cache, and a cold one from the network, while Redis is paused", { timeout: 60_000 }, async () => {
    const warm = coldClient();
    try {
      await warm.acquireTokenForClient({ scopes: [ids.apiScope] });
      redis.pause();
      try {
        const hit = await settlesWithin(warm.acquireTokenForClient({ scopes: [ids.apiScope] }), 10_000);
        expect(hit.source).toBe("cache");
        const cold = await acquireCold();
        expect(cold.source).toBe("network");
        await expectValidEmulatorToken(cold.accessToken, expected());
      } finally {
        redis.resume();
      }
    } finally {
      await warm.dispose();
    }
  });

  it("serves from the shared store while Redis answers slowly but within commandTimeoutMs", { timeout: 60_000 }, async () => {
    const patient = createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:`, commandTimeoutMs: 5_000 });
    try {
      const first = await acquireCold(patient);
      expect(first.source).toBe("network");
      const before = emulator.tokenRequestCount();
      // Every command waits for the pause to end, well inside the store's deadline.
      await redis.command("CLIENT", "PAUSE", "300", "ALL");
      const results = await Promise.all([acquireCold(patient), acquireCold(patient)]);
      for (const result of results) {
        expect(result.source).toBe("shared-cache");
        expect(result.accessToken).toBe(first.accessToken);
      }
      expect(emulator.tokenRequestCount()).toBe(before);
    } finally {
      await patient.dispose?.();
    }
  });

  it("falls back to the token endpoint while Redis is slower than commandTimeoutMs, and uses the store again after", { timeout: 60_000 }, async () => {
    const hasty = createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:`, commandTimeoutMs: 250 });
    try {
      expect((await acquireCold(hasty)).source).toBe("network");
      const before = emulator.tokenRequestCount();
      // Far longer than the store's deadline: every command answers too late.
      await redis.command("CLIENT", "PAUSE", "5000", "ALL");
      const results = await Promise.all([acquireCold(hasty), acquireCold(hasty), acquireCold(hasty)]);
      for (const result of results) {
        expect(result.source).toBe("network");
        await expectValidEmulatorToken(result.accessToken, expected());
      }
      expect(emulator.tokenRequestCount()).toBe(before + 3);

      const recovered = await untilServedByStore(hasty);
      expect(recovered.source).toBe("shared-cache");
      await expectValidEmulatorToken(recovered.accessToken, expected());
    } finally {
      await hasty.dispose?.();
    }
  });

  it("keeps acquiring through the token endpoint while Redis is full (noeviction), and uses the store again once memory is freed", { timeout: 60_000 }, async () => {
    const warm = coldClient();
    const empty = createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:` });
    try {
      expect((await warm.acquireTokenForClient({ scopes: [ids.apiScope] })).source).toBe("network");
      // Full as in production: data up to and past maxmemory, with nothing Redis may evict.
      const baseline = await usedMemory();
      await redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction");
      const filler = "x".repeat(64 * 1024);
      for (let index = 0; index < 48; index++) await redis.command("SET", `filler:${String(index)}`, filler);
      await redis.command("CONFIG", "SET", "maxmemory", String(baseline + 1024 * 1024));
      await expect(redis.command("SET", "probe", "1")).rejects.toThrow(/^OOM/);

      // A prefix with nothing stored yet: reads miss, and every write is refused.
      const before = emulator.tokenRequestCount();
      const results = await Promise.all([acquireCold(empty), acquireCold(empty), acquireCold(empty)]);
      for (const result of results) {
        expect(result.source).toBe("network");
        await expectValidEmulatorToken(result.accessToken, expected());
      }
      // Nothing could be stored (nor locked), so each cold client asked once.
      expect(emulator.tokenRequestCount()).toBe(before + 3);
      expect((await settlesWithin(warm.acquireTokenForClient({ scopes: [ids.apiScope] }), 10_000)).source).toBe("cache");

      await redis.command("DEL", ...Array.from({ length: 48 }, (_, index) => `filler:${String(index)}`));
      const recovered = await untilServedByStore(empty);
      expect(recovered.source).toBe("shared-cache");
      await expectValidEmulatorToken(recovered.accessToken, expected());
    } finally {
      await warm.dispose();
      await empty.dispose?.();
    }
  });
});

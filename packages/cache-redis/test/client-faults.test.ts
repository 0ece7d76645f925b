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

beforeEach(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  redis = await startRedisServer();
  store = createRedisCache({ url: redis.url, keyPrefix: `t-${randomUUID()}:` });
});
afterEach(async () => {
  await store.dispose?.();
  await redis.stop();
  await emulator.close();
});

/** A client with a cold in-process cache, as a freshly started daemon has. */
function coldClient(): DaemonClient {
  return createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: clientSecret(ids.daemonClientSecret),
    cache: store,
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

async function acquireCold(): Promise<{ source: string; accessToken: string }> {
  const client = coldClient();
  try {
    return await settlesWithin(client.acquireTokenForClient({ scopes: [ids.apiScope] }), 10_000);
  } finally {
    await client.dispose();
  }
}

const expected = (): { jwksUri: string; clientId: string } => ({ jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId });

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
    const deadline = Date.now() + 15_000;
    let result = await acquireCold();
    while (result.source !== "shared-cache" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await acquireCold();
    }
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
});

// The store behind Redis Sentinel: a master, its replica and a sentinel, all real
// redis-server processes. Killing the master makes the sentinel promote the replica.
import { randomUUID } from "node:crypto";
import { expectValidEmulatorToken } from "@daemon-auth/conformance";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { startRedisSentinel, type RedisSentinelSetup } from "@daemon-auth/test-utils";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache } from "../src/index.js";
import { acquireCold } from "./fixtures/helpers.js";

const ids = demoEmulatorIdentities;
let setup: RedisSentinelSetup;
let emulator: Emulator;

beforeAll(async () => {
  setup = await startRedisSentinel({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
  emulator = await startEmulator({ config: demoEmulatorConfig() });
}, 60_000);
afterAll(async () => {
  await emulator.close();
  await setup.stop();
});

describe("createRedisCache behind Redis Sentinel", () => {
  it("resumes sharing on the promoted replica after the master is killed, with no failed acquisition", { timeout: 90_000 }, async () => {
    // What the README recommends: fail fast while the client looks for the new master.
    const client = new Redis({ sentinels: [...setup.sentinels], name: setup.name, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    // The owner of a client listens to its errors (ioredis prints them otherwise); the store reports its own.
    client.on("error", () => undefined);
    // Connected, as a daemon that has been running is: a first connect on a loaded machine may outlast the store's deadline.
    if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
    const store = createRedisCache({ client, keyPrefix: `t-${randomUUID()}:` });
    const expected = { jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId };
    try {
      expect((await acquireCold(emulator, store)).source).toBe("network");
      expect((await acquireCold(emulator, store)).source).toBe("shared-cache");
      expect(await setup.masterPort()).toBe(setup.master.port);
      const requestsBefore = emulator.tokenRequestCount();

      await setup.master.kill();
      const failover = setup.waitForFailover(setup.master.port, 30_000);
      failover.catch(() => undefined);

      // Cold clients keep coming while the sentinel notices the dead master and promotes the replica.
      const sources: string[] = [];
      let last = "";
      let promoted = false;
      void failover.then(() => (promoted = true));
      const deadline = Date.now() + 30_000;
      for (;;) {
        const result = await acquireCold(emulator, store);
        await expectValidEmulatorToken(result.accessToken, expected);
        sources.push(result.source);
        last = result.accessToken;
        if ((promoted && result.source === "shared-cache") || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const newMaster = await failover;
      expect(newMaster.port).toBe(setup.replica.port);
      expect(sources.at(-1)).toBe("shared-cache");
      expect(sources.every((source) => source === "network" || source === "shared-cache")).toBe(true);
      // While the master was down every cold client went to the token endpoint, once each.
      expect(emulator.tokenRequestCount() - requestsBefore).toBe(sources.filter((source) => source === "network").length);

      // Sharing resumed on the promoted replica: cold clients keep getting the token the
      // last one got from there, and the refresh lock works there.
      const after = await acquireCold(emulator, store);
      expect(after.source).toBe("shared-cache");
      // A boolean, so that a failure prints no token.
      expect(after.accessToken === last).toBe(true);
      const lock = await store.lock!("after-failover", { ttlMs: 10_000 });
      expect(lock).toBeDefined();
      await lock!.release();
    } finally {
      await store.dispose?.();
      client.disconnect();
    }
  });
});

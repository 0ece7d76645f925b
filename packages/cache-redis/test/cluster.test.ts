// The store on a real Redis Cluster (3 masters, each with a replica), through an ioredis
// Cluster client: key placement, processes sharing tokens, and a master killed mid-run.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeTokenCacheStore, expectValidEmulatorToken } from "@daemon-auth/conformance";
import type { TokenCacheStore } from "@daemon-auth/core";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type EmulatorConfig } from "@daemon-auth/emulator";
import { startNode, startRedisCluster, type NodeProcess, type RedisCluster, type RedisServer } from "@daemon-auth/test-utils";
import { Cluster } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache } from "../src/index.js";
import { acquireCold } from "./fixtures/helpers.js";

const HOUR = 3_600_000;
const ids = demoEmulatorIdentities;

let cluster: RedisCluster;
const clients: Cluster[] = [];
const stores: TokenCacheStore[] = [];

// One cluster for the whole file: forming it (gossip, replica sync) is the slow part.
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
}, 60_000);
afterAll(async () => {
  await cluster.stop();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map(async (store) => store.dispose?.()));
  for (const client of clients.splice(0)) client.disconnect();
});

/**
 * A connected Cluster client, as a daemon that has been running holds: on a loaded
 * 2-core machine a first connection (slots, then a socket per master) can outlast the
 * store's deadline, and these tests are about sharing and failover, not connect time.
 */
async function clusterClient(): Promise<Cluster> {
  const client = new Cluster([...cluster.startupNodes]);
  clients.push(client);
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
  await Promise.all(client.nodes("master").map((node) => node.ping()));
  return client;
}

// The semantics tests get a generous deadline, as in conformance.test.ts; the failover test keeps the default.
async function clusterCache(keyPrefix = `t-${randomUUID()}:`, commandTimeoutMs = 5_000): Promise<TokenCacheStore> {
  const store = createRedisCache({ client: await clusterClient(), keyPrefix, commandTimeoutMs });
  stores.push(store);
  return store;
}

/** Every key under `prefix` on every running master, with the master that holds it. */
async function keysUnder(prefix: string): Promise<{ name: string; node: RedisServer }[]> {
  const found: { name: string; node: RedisServer }[] = [];
  for (const node of cluster.nodes.filter((server) => server.running)) {
    const role = /^role:(\w+)/m.exec(String(await node.command("INFO", "replication")))?.[1];
    if (role !== "master") continue;
    const names = await node.command("KEYS", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`);
    for (const name of Array.isArray(names) ? names : []) found.push({ name: String(name), node });
  }
  return found;
}

// The conformance suite against the cluster: hostile keys (empty, `{`, `}`, 4 KiB…) land
// in slots all over the cluster, and each entry's lock must follow it.
describeTokenCacheStore("redis cluster", async () => ({ store: await clusterCache() }), { lock: true });

describe("createRedisCache on a Redis Cluster", () => {
  it("keeps an entry and its lock in one hash slot, on the master that serves it, whatever the key and prefix", async () => {
    const keys = [
      "https://login.microsoftonline.com/contoso|0d2f4b6c|8f3c2a1e|api://orders/.default",
      "a{tag}b",
      "}starts-with-a-brace",
      "{",
      "}",
      "",
      "x".repeat(2_000),
    ];
    const prefixes = (id: string) => [`t-${id}:`, `t-${id}{`, `t-${id}}:`, `{t-${id}}:`];
    const id = randomUUID();
    for (const prefix of prefixes(id)) {
      const store = await clusterCache(prefix);
      for (const [index, key] of keys.entries()) {
        await store.set(key, `value-${String(index)}`, Date.now() + HOUR);
        const lock = await store.lock!(key, { ttlMs: 30_000 });
        expect(lock, `lock of key #${String(index)} under ${prefix}`).toBeDefined();
        // The entries of this key and the ones before it, and this key's lock (the earlier ones were released).
        const fresh = await keysUnder(prefix);
        expect(fresh.length, `keys under ${prefix} for key #${String(index)}`).toBe(index + 2);
        const slots = new Set<number>();
        const lockNames = fresh.filter(({ name }) => name.endsWith(":lock"));
        expect(lockNames).toHaveLength(1);
        const lockName = lockNames[0]!;
        const entry = fresh.find(({ name }) => name === lockName.name.slice(0, -":lock".length));
        expect(entry, `the entry beside ${lockName.name}`).toBeDefined();
        for (const { name, node } of [lockName, entry!]) {
          slots.add(await cluster.keySlot(name));
          expect((await cluster.masterFor(name)).port).toBe(node.port);
        }
        expect(slots.size, `slots of key #${String(index)} under ${prefix}`).toBe(1);
        expect(await store.get(key)).toBe(`value-${String(index)}`);
        await lock!.release();
      }
    }
  });

  it("spreads entries over the masters", async () => {
    const prefix = `t-${randomUUID()}:`;
    const store = await clusterCache(prefix);
    for (let index = 0; index < 30; index++) await store.set(`key-${String(index)}`, "v", Date.now() + HOUR);
    const found = await keysUnder(prefix);
    expect(found).toHaveLength(30);
    // 30 keys on one or two of three masters by chance: about 1 in 10^5.
    expect(new Set(found.map(({ node }) => node.port)).size).toBe(3);
  });
});

/** The demo directory plus more APIs the daemon holds a role on: one shared-cache key each. */
function directoryWithApis(count: number): { config: EmulatorConfig; scopes: string[] } {
  const config = demoEmulatorConfig();
  const scopes: string[] = [ids.apiScope];
  for (let index = 1; index < count; index++) {
    const uri = `api://daemon-auth-cluster-${String(index)}`;
    config.applications.push({
      clientId: `5a7c9e1b-3d5f-4a7c-8e9b-1c3d5e7f9a${String(index).padStart(2, "0")}`,
      homeTenant: ids.tenantId,
      identifierUris: [uri],
      appRoles: [{ value: "Read", id: `b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d${String(index).padStart(2, "0")}`, description: "Read" }],
    });
    config.grants?.push({ tenant: ids.tenantId, clientId: ids.daemonClientId, resource: uri, roles: ["Read"] });
    scopes.push(`${uri}/.default`);
  }
  return { config, scopes };
}

describe("createRedisCache on a Redis Cluster: processes sharing tokens", () => {
  it("makes one token request per key when 8 processes start cold on the cluster", { timeout: 120_000 }, async () => {
    const { config, scopes } = directoryWithApis(4);
    const emulator = await startEmulator({ config });
    const barrier = mkdtempSync(join(tmpdir(), "daemon-auth-barrier-"));
    const prefix = `t-${randomUUID()}:`;
    let children: NodeProcess[] = [];
    try {
      const go = join(barrier, "go");
      const args = [
        emulator.authority(ids.tenantId),
        ids.daemonClientId,
        scopes.join(","),
        JSON.stringify(cluster.startupNodes),
        prefix,
        go,
      ];
      const script = fileURLToPath(new URL("./fixtures/cluster-child.ts", import.meta.url));
      children = Array.from({ length: 8 }, () =>
        startNode(script, args, { env: { TEST_CLIENT_SECRET: ids.daemonClientSecret }, timeoutMs: 90_000 }),
      );
      // Every process has loaded before any acquires, so they really race.
      await Promise.all(children.map((child) => child.waitForOutput("ready", 80_000)));
      writeFileSync(go, "");
      const results = await Promise.all(children.map((child) => child.exited));
      const reports = results.flatMap((result) => {
        expect(result.code, result.stderr).toBe(0);
        return result.stdout
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as { scope: string; source: string; token: string });
      });
      expect(reports).toHaveLength(8 * scopes.length);
      for (const scope of scopes) {
        expect(emulator.tokenRequestCount({ scope }), scope).toBe(1);
        const forScope = reports.filter((report) => report.scope === scope);
        expect(new Set(forScope.map((report) => report.token)).size, scope).toBe(1);
        expect(forScope.filter((report) => report.source === "network"), scope).toHaveLength(1);
        expect(forScope.filter((report) => report.source === "shared-cache"), scope).toHaveLength(7);
      }
      // Each token's entry sits on a master, beside no leftover lock.
      const found = await keysUnder(prefix);
      expect(found.filter(({ name }) => name.endsWith(":lock"))).toEqual([]);
      expect(found).toHaveLength(scopes.length);
    } finally {
      for (const child of children) child.kill("SIGKILL");
      await emulator.close();
      rmSync(barrier, { recursive: true, force: true });
    }
  });
});

describe("createRedisCache on a Redis Cluster: a master killed mid-run", () => {
  it("keeps every acquisition succeeding: through the network while the slot's master is down, then through the cluster again", { timeout: 90_000 }, async () => {
    const emulator = await startEmulator({ config: demoEmulatorConfig() });
    const prefix = `t-${randomUUID()}:`;
    const store = await clusterCache(prefix, 500);
    let killed: RedisServer | undefined;
    try {
      const expected = { jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId };
      expect((await acquireCold(emulator, store)).source).toBe("network");
      expect((await acquireCold(emulator, store)).source).toBe("shared-cache");

      const [entry] = await keysUnder(prefix);
      expect(entry).toBeDefined();
      killed = await cluster.masterFor(entry!.name);
      await killed.kill();

      // Cold clients keep coming while the cluster notices the dead master and promotes its replica.
      const sources: string[] = [];
      const deadline = Date.now() + 30_000;
      for (;;) {
        const result = await acquireCold(emulator, store);
        await expectValidEmulatorToken(result.accessToken, expected);
        sources.push(result.source);
        if ((result.source === "shared-cache" && sources.includes("network")) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(sources[0]).toBe("network");
      expect(sources.at(-1)).toBe("shared-cache");
      expect(sources.every((source) => source === "network" || source === "shared-cache")).toBe(true);
      // The entry now lives on the promoted replica.
      expect((await cluster.masterFor(entry!.name)).port).not.toBe(killed.port);
    } finally {
      await emulator.close();
      if (killed !== undefined) {
        await killed.restart();
        await cluster.waitUntilHealthy();
      }
    }
  });
});

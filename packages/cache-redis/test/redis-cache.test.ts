import { randomBytes, randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { CacheError, ConfigurationError, type TokenCacheStore } from "@daemon-auth/core";
import { freePort, startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache, type RedisCacheOptions } from "../src/index.js";

const HOUR = 3_600_000;

let redis: RedisServer;
let admin: Redis;
const stores: TokenCacheStore[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url, { lazyConnect: true });
  await admin.connect();
});
afterAll(async () => {
  admin.disconnect();
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map(async (store) => store.dispose?.()));
});

function cache(options: Partial<RedisCacheOptions> = {}): { store: TokenCacheStore; prefix: string } {
  const prefix = `t-${randomUUID()}:`;
  const store = createRedisCache({ url: redis.url, keyPrefix: prefix, ...options });
  stores.push(store);
  return { store, prefix };
}

async function timed<T>(promise: Promise<T>): Promise<{ elapsed: number; outcome: PromiseSettledResult<T> }> {
  const started = Date.now();
  const [outcome] = await Promise.allSettled([promise]);
  return { elapsed: Date.now() - started, outcome };
}

describe("createRedisCache: storage", () => {
  it("sets the Redis expiry from expiresAt, with no separate TTL bookkeeping", async () => {
    const { store, prefix } = cache();
    const expiresAt = Date.now() + HOUR;
    await store.set("k", "v", expiresAt);
    const pttl = await admin.pttl(`${prefix}{k}`);
    expect(pttl).toBeGreaterThan(HOUR - 5_000);
    expect(pttl).toBeLessThanOrEqual(HOUR);
    expect(await admin.get(`${prefix}{k}`)).toBe("v");
  });

  it("keeps stores with different prefixes apart and writes only under its prefix", async () => {
    const a = cache();
    const b = cache();
    await a.store.set("same", "from-a", Date.now() + HOUR);
    expect(await b.store.get("same")).toBeUndefined();
    await b.store.set("same", "from-b", Date.now() + HOUR);
    expect(await a.store.get("same")).toBe("from-a");
    await a.store.delete("same");
    expect(await b.store.get("same")).toBe("from-b");
    expect(await admin.keys(`${b.prefix}*`)).toEqual([`${b.prefix}{same}`]);
  });

  it("uses the documented default prefix", async () => {
    const key = `default-${randomUUID()}`;
    const store = createRedisCache({ url: redis.url });
    stores.push(store);
    await store.set(key, "v", Date.now() + HOUR);
    expect(await admin.get(`daemon-auth:{${key}}`)).toBe("v");
  });

  it("hashes very long keys instead of storing them whole", async () => {
    const { store, prefix } = cache();
    const long = "x".repeat(10_000);
    await store.set(long, "v", Date.now() + HOUR);
    expect(await store.get(long)).toBe("v");
    const [name] = await admin.keys(`${prefix}*`);
    expect(name).toMatch(new RegExp(`^${prefix}#sha256\\{[0-9a-f]{64}\\}$`));
  });

  it("reads back a corrupt value under its key as is, and a foreign type as a miss", async () => {
    const { store, prefix } = cache();
    await admin.set(`${prefix}{corrupt}`, "\u0000{not json", "PX", 60_000);
    expect(await store.get("corrupt")).toBe("\u0000{not json");
    await admin.hset(`${prefix}{hash}`, "field", "value");
    expect(await store.get("hash")).toBeUndefined();
    await store.set("hash", "replaced", Date.now() + HOUR);
    expect(await store.get("hash")).toBe("replaced");
  });

  it("stores only ciphertext when encrypted, and a foreign plaintext reads as a miss", async () => {
    const key = randomBytes(32);
    const { store, prefix } = cache({ encryptionKey: key.toString("base64") });
    await store.set("k", "secret-token-value", Date.now() + HOUR);
    const raw = await admin.get(`${prefix}{k}`);
    expect(raw).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(raw).not.toContain("secret-token-value");
    expect(await store.get("k")).toBe("secret-token-value");
    await admin.set(`${prefix}{plain}`, "plaintext", "PX", 60_000);
    expect(await store.get("plain")).toBeUndefined();
  });
});

describe("createRedisCache: lock", () => {
  it("keeps lock keys in their own namespace with the ttl as Redis expiry", async () => {
    const { store, prefix } = cache();
    const lock = await store.lock!("k", { ttlMs: 30_000 });
    expect(lock).toBeDefined();
    const names = await admin.keys(`${prefix}*`);
    expect(names).toEqual([`${prefix}{k}:lock`]);
    const pttl = await admin.pttl(`${prefix}{k}:lock`);
    expect(pttl).toBeGreaterThan(25_000);
    expect(await store.get("k")).toBeUndefined();
    await lock!.release();
    expect(await admin.exists(`${prefix}{k}:lock`)).toBe(0);
  });

  it("refuses a lock without a positive, finite ttlMs, in the option dialect, before any command", async () => {
    const { store, prefix } = cache();
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(store.lock!("k", { ttlMs })).rejects.toThrow(ConfigurationError);
      await expect(store.lock!("k", { ttlMs })).rejects.toThrow(/^redisCache\.lock: 'ttlMs' must be a positive number of milliseconds, like 30000; got -?\w+\.$/);
    }
    expect(await admin.keys(`${prefix}*`)).toEqual([]);
  });

  it("shares the lock between two stores (processes) on the same prefix", async () => {
    const { store, prefix } = cache();
    const other = createRedisCache({ url: redis.url, keyPrefix: prefix });
    stores.push(other);
    const held = await store.lock!("k", { ttlMs: 10_000 });
    expect(held).toBeDefined();
    expect(await other.lock!("k", { ttlMs: 10_000 })).toBeUndefined();
    await held!.release();
    expect(await other.lock!("k", { ttlMs: 10_000 })).toBeDefined();
  });

  it("does not leak the owner token or the URL password through util.inspect or JSON", async () => {
    const own = await startRedisServer({ args: ["--requirepass", "hunter2-pass"] });
    try {
      const store = createRedisCache({ url: `redis://:hunter2-pass@127.0.0.1:${own.port}` });
      stores.push(store);
      const lock = await store.lock!("k", { ttlMs: 1000 });
      expect(lock).toBeDefined();
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the store overrides toString
      for (const rendered of [inspect(store, { showHidden: true, depth: Infinity }), JSON.stringify(store), String(store)]) {
        expect(rendered).not.toContain("hunter2-pass");
      }
      expect(inspect(lock, { showHidden: true, depth: Infinity })).toBe("RedisStoreLock");
    } finally {
      await own.stop();
    }
  });
});

describe("createRedisCache: failures", () => {
  it("fails fast with a CacheError when nothing listens, and never echoes the password", async () => {
    const port = await freePort();
    const store = createRedisCache({ url: `redis://user:hunter2-pass@127.0.0.1:${port}` });
    stores.push(store);
    const { elapsed, outcome } = await timed(store.get("k"));
    expect(outcome.status).toBe("rejected");
    const error = (outcome as PromiseRejectedResult).reason as CacheError;
    expect(error).toBeInstanceOf(CacheError);
    expect(error.code).toBe("ERR_CACHE");
    expect(error.message).toMatch(/unavailable/);
    expect(error.message).toMatch(/falls back to the token endpoint/);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message + String(error.stack)).not.toContain("hunter2-pass");
    expect(elapsed).toBeLessThan(2_000);
  });

  it("throws CacheError within about a second while Redis is down, and works again once it is back", async () => {
    const own = await startRedisServer();
    try {
      const store = createRedisCache({ url: own.url, keyPrefix: "p:" });
      stores.push(store);
      await store.set("k", "before", Date.now() + HOUR);
      expect(await store.get("k")).toBe("before");

      await own.stop();
      const operations: (() => Promise<unknown>)[] = [
        () => store.get("k"),
        () => store.set("k", "v", Date.now() + HOUR),
        () => store.lock!("k", { ttlMs: 1000 }),
      ];
      for (const operation of operations) {
        const { elapsed, outcome } = await timed(operation());
        expect(outcome.status).toBe("rejected");
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(CacheError);
        expect(elapsed).toBeLessThan(1_500);
      }

      await own.restart();
      const deadline = Date.now() + 5_000;
      let value: string | undefined | CacheError;
      for (;;) {
        value = await store.set("k", "after", Date.now() + HOUR).then(
          () => store.get("k"),
          (error: CacheError) => error,
        );
        if (value === "after" || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(value).toBe("after");
    } finally {
      await own.stop();
    }
  });

  it("gives up after commandTimeoutMs when Redis hangs, instead of waiting for it", async () => {
    const own = await startRedisServer();
    try {
      const store = createRedisCache({ url: own.url, commandTimeoutMs: 300 });
      stores.push(store);
      await store.set("k", "v", Date.now() + HOUR);
      own.pause();
      const { elapsed, outcome } = await timed(store.get("k"));
      expect(outcome.status).toBe("rejected");
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(CacheError);
      expect(String((outcome as PromiseRejectedResult).reason.message)).toMatch(/within 300 ms/);
      expect(elapsed).toBeLessThan(1_500);
      own.resume();
      await store.dispose!();
    } finally {
      own.resume();
      await own.stop();
    }
  });

  it("releases a lock that a slow Redis grants after lock() gave up, so no process waits out its ttl", async () => {
    const own = await startRedisServer();
    try {
      const prefix = `t-${randomUUID()}:`;
      const slow = createRedisCache({ url: own.url, keyPrefix: prefix, commandTimeoutMs: 200 });
      const other = createRedisCache({ url: own.url, keyPrefix: prefix });
      stores.push(slow, other);
      await slow.get("connect");
      // Longer than the store's deadline: the SET NX waits in Redis and is carried out late.
      await own.command("CLIENT", "PAUSE", "1000", "ALL");
      await expect(slow.lock!("k", { ttlMs: 60_000 })).rejects.toBeInstanceOf(CacheError);
      const evalCalls = async () => Number(/cmdstat_eval:calls=(\d+)/.exec(String(await own.command("INFO", "commandstats")))?.[1] ?? 0);
      const deadline = Date.now() + 10_000;
      while ((await evalCalls()) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await evalCalls()).toBe(1);
      expect(await own.command("EXISTS", `${prefix}{k}:lock`)).toBe(0);
      const lock = await other.lock!("k", { ttlMs: 60_000 });
      expect(lock).toBeDefined();
      await lock?.release();
    } finally {
      await own.stop();
    }
  });

  it("reports a refused write (maxmemory) as a CacheError that says what to check", async () => {
    const own = await startRedisServer({ args: ["--maxmemory", "1", "--maxmemory-policy", "noeviction"] });
    try {
      const store = createRedisCache({ url: own.url });
      stores.push(store);
      const error = await store.set("k", "x".repeat(10_000), Date.now() + HOUR).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).message).toMatch(/refused SET.*OOM.*maxmemory/s);
    } finally {
      await own.stop();
    }
  });
});

describe("createRedisCache: clients and lifecycle", () => {
  it("uses an injected client and leaves it open on dispose", async () => {
    const client = new Redis(redis.url);
    try {
      const store = createRedisCache({ client, keyPrefix: `t-${randomUUID()}:` });
      await store.set("k", "v", Date.now() + HOUR);
      expect(await store.get("k")).toBe("v");
      await store.dispose!();
      await store.dispose!();
      expect(client.status).toBe("ready");
      expect(await client.ping()).toBe("PONG");
      await expect(store.get("k")).rejects.toBeInstanceOf(CacheError);
    } finally {
      client.disconnect();
    }
  });

  it("connects a lazy injected client on first use", async () => {
    const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false });
    try {
      const store = createRedisCache({ client });
      expect(await store.get(`k-${randomUUID()}`)).toBeUndefined();
      expect(client.status).toBe("ready");
    } finally {
      client.disconnect();
    }
  });

  it("connects only when first used, and closes its own connection on dispose", async () => {
    const own = await startRedisServer();
    // INFO over a fresh connection counts that connection too.
    const others = async () => Number(/connected_clients:(\d+)/.exec(String(await own.command("INFO", "clients")))?.[1]) - 1;
    const settlesAt = async (expected: number) => {
      const deadline = Date.now() + 2_000;
      while ((await others()) !== expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return others();
    };
    try {
      const store = createRedisCache({ url: own.url });
      expect(await others()).toBe(0);
      await store.get("k");
      expect(await settlesAt(1)).toBe(1);
      await store.dispose!();
      await store.dispose!();
      expect(await settlesAt(0)).toBe(0);
      await expect(store.get("k")).rejects.toThrow(/disposed/);
    } finally {
      await own.stop();
    }
  });

  it("rejects inconsistent options with ConfigurationError that says what to pass", () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    const cases: [unknown, RegExp][] = [
      [{}, /^createRedisCache: give exactly one of 'url'/],
      [{ url: redis.url, client }, /^createRedisCache: give exactly one of 'url'/],
      [{ url: "http://:pw@localhost:6379" }, /^createRedisCache: 'url' must be a redis:\/\/ or rediss:\/\//],
      [{ url: "not a url" }, /^createRedisCache: 'url' must be a redis:\/\/ or rediss:\/\//],
      [{ client: { get() {} } }, /^createRedisCache: 'client' must be an ioredis Redis or Cluster/],
      [{ client, tls: {} }, /^createRedisCache: 'tls' applies to 'url' only/],
      [{ url: redis.url, commandTimeoutMs: 0 }, /^createRedisCache: 'commandTimeoutMs' must be a positive number of milliseconds/],
      [{ url: redis.url, keyPrefix: "app:{}:" }, /^createRedisCache: 'keyPrefix' must not contain an empty hash tag/],
      [{ url: redis.url, encryptionKey: "c2hvcnQ=" }, /openssl rand -base64 32/],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      try {
        createRedisCache(options as RedisCacheOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(options)).toBeInstanceOf(ConfigurationError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain(":pw@");
    }
    client.disconnect();
  });
});

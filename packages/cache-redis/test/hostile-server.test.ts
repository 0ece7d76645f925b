// Errors that carry credentials out, and values too large to read: against a real
// redis-server with an ACL user and password.
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { ConfigurationError, type TokenCacheStore } from "@daemon-auth/core";
import { startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache, type RedisCacheOptions } from "../src/index.js";
import { failureOf } from "./fixtures/helpers.js";

const HOUR = 3_600_000;
// Characters that URLs percent-encode, so both spellings of the password are checked.
const PASSWORD = "right-pass/7Qz+k%";
const WRONG_PASSWORD = "wrong-pass-5Jd8";
const TOKEN = "eyJ0eXAiOiJKV1QiLCJ0b2tlbi12YWx1ZSI6dHJ1ZX0.token-body";

let redis: RedisServer;
const stores: TokenCacheStore[] = [];

beforeAll(async () => {
  // The default user stays open for the helper's checks; "daemon" may only touch "allowed:*".
  redis = await startRedisServer({ args: ["--user", "daemon", "on", `>${PASSWORD}`, "~allowed:*", "+@all"] });
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map(async (store) => store.dispose?.()));
});

const urlWith = (password: string) => `redis://daemon:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`;

function cache(options: RedisCacheOptions): TokenCacheStore {
  const store = createRedisCache(options);
  stores.push(store);
  return store;
}

/** Every rendering of the error and of each cause below it is free of every secret. */
function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const chain: unknown[] = [];
  for (let current: unknown = error; current !== undefined && chain.length < 10; current = (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  for (const [depth, link] of chain.entries()) {
    const renderings = [
      inspect(link, { depth: Infinity, showHidden: true }),
      JSON.stringify(link),
      String((link as Error).message),
      String((link as Error).stack),
    ];
    for (const rendering of renderings) {
      for (const secret of secrets) expect(rendering, `cause depth ${depth}`).not.toContain(secret);
    }
  }
}

const secrets = [PASSWORD, encodeURIComponent(PASSWORD), WRONG_PASSWORD, TOKEN];

describe("createRedisCache: credentials in errors", () => {
  it("says a wrong password is a credentials problem, naming REDIS_URL, on the first call and after", async () => {
    const store = cache({ url: urlWith(WRONG_PASSWORD) });
    for (const attempt of [1, 2]) {
      const error = await failureOf(store.get("k"));
      expectNoSecrets(error, secrets);
      expect(error.message, `call ${attempt}`).toMatch(/refused this client's credentials.*falls back to the token endpoint.*REDIS_URL/s);
      expect(error.message).toContain(`127.0.0.1:${redis.port}`);
    }
  });

  it("keeps no command arguments (the token, the password) in the cause of a refused command", async () => {
    // A right user outside its ACL key pattern: Redis answers NOPERM to every command.
    const store = cache({ url: urlWith(PASSWORD), keyPrefix: `t-${randomUUID()}:` });
    const errors = [
      await failureOf(store.set("k", TOKEN, Date.now() + HOUR)),
      await failureOf(store.get("k")),
      await failureOf(store.lock!("k", { ttlMs: 1000 })),
    ];
    for (const error of errors) {
      expectNoSecrets(error, secrets);
      expect(error.message).toMatch(/NOPERM/);
      expect(error.cause).toMatchObject({ name: "ReplyError" });
      expect(Object.keys(error.cause as object)).not.toContain("command");
    }
  });

  it("says so when an injected client lacks the password, and keeps its AUTH arguments out", async () => {
    const client = new Redis({ host: "127.0.0.1", port: redis.port, username: "daemon", password: WRONG_PASSWORD, lazyConnect: true });
    client.on("error", () => undefined);
    try {
      const store = cache({ client });
      const error = await failureOf(store.get("k"));
      expectNoSecrets(error, secrets);
      expect(error.message).toMatch(/refused this client's credentials.*the ioredis client you passed/s);
    } finally {
      client.disconnect();
    }
  });
});

describe("createRedisCache: maxEntryBytes", () => {
  it("refuses a value planted past maxEntryBytes after transferring at most that much, and serves one that fits", async () => {
    const prefix = `allowed:${randomUUID()}:`;
    const store = cache({ url: urlWith(PASSWORD), keyPrefix: prefix, maxEntryBytes: 1024 });
    const admin = new Redis(redis.url);
    try {
      await admin.set(`${prefix}{fits}`, "€".repeat(341) + "x", "PX", 60_000);
      await admin.set(`${prefix}{huge}`, "x".repeat(20 * 1024 * 1024), "PX", 60_000);
      await admin.set(`${prefix}{empty}`, "", "PX", 60_000);
      expect(await store.get("fits")).toBe("€".repeat(341) + "x");
      expect(await store.get("empty")).toBe("");
      expect(await store.get("missing")).toBeUndefined();
      const error = await failureOf(store.get("huge"));
      expect(error.message).toMatch(/larger than maxEntryBytes \(1024 bytes\); the store read no more than that/);
      expect(error.message).toContain(`${prefix}{huge}`);
      // Redis counts what it sent: the whole value would be 20 MB on the wire.
      const info = String(await redis.command("INFO", "stats"));
      const sent = Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1]);
      expect(sent).toBeLessThan(2 * 1024 * 1024);
    } finally {
      admin.disconnect();
    }
  });

  it("refuses to write a value larger than maxEntryBytes, and writes nothing", async () => {
    const prefix = `allowed:${randomUUID()}:`;
    const store = cache({ url: urlWith(PASSWORD), keyPrefix: prefix, maxEntryBytes: 1024 });
    const error = await failureOf(store.set("k", "x".repeat(1025), Date.now() + HOUR));
    expect(error.message).toMatch(/1025 bytes is larger than maxEntryBytes \(1024\).*Raise maxEntryBytes/s);
    expect(await redis.command("EXISTS", `${prefix}{k}`)).toBe(0);
    await store.set("k", "x".repeat(1024), Date.now() + HOUR);
    expect(await store.get("k")).toBe("x".repeat(1024));
  });

  it("refuses a maxEntryBytes that is not a whole number of at least 1024", () => {
    for (const maxEntryBytes of [0, -1, 1023, 1.5, Number.NaN, Infinity]) {
      expect(() => createRedisCache({ url: redis.url, maxEntryBytes }), String(maxEntryBytes)).toThrow(ConfigurationError);
    }
  });
});

// The store on a managed-style Redis: TLS (`rediss://`) with a CA made by the test, and
// an ACL user with a password, against a real redis-server built with TLS.
import { randomUUID } from "node:crypto";
import { assertNoSecretIn, errorRenderings, expectValidEmulatorToken, renderings } from "@daemon-auth/conformance";
import type { TokenCacheStore } from "@daemon-auth/core";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";
import { createTestCertificateAuthority, startTlsRedisServer, type TestCertificateAuthority, type TlsRedisServer } from "@daemon-auth/test-utils";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache, type RedisCacheOptions } from "../src/index.js";
import { acquireCold, failureOf } from "./fixtures/helpers.js";

const HOUR = 3_600_000;
// Characters that URLs percent-encode, so both spellings of the password are checked.
const PASSWORD = "tls-right-pass/9Wq+z%";
const WRONG_PASSWORD = "tls-wrong-pass-3Kd7";
const ids = demoEmulatorIdentities;

let redis: TlsRedisServer;
let otherCa: TestCertificateAuthority;
const stores: TokenCacheStore[] = [];

beforeAll(async () => {
  // The default user stays open on the plain port for the helper's checks; the store logs in as "daemon".
  redis = await startTlsRedisServer({ args: ["--user", "daemon", "on", `>${PASSWORD}`, "~*", "+@all"] });
  otherCa = createTestCertificateAuthority();
});
afterAll(async () => {
  otherCa.remove();
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map(async (store) => store.dispose?.()));
});

const urlWith = (password: string) => `rediss://daemon:${encodeURIComponent(password)}@127.0.0.1:${String(redis.tlsPort)}`;
const secrets = [PASSWORD, encodeURIComponent(PASSWORD), WRONG_PASSWORD];

// A generous deadline: a first TLS handshake and login on a loaded 2-core machine may
// take longer than the default, and these tests are about TLS and ACL, not latency.
function cache(options: RedisCacheOptions): TokenCacheStore {
  const store = createRedisCache({ commandTimeoutMs: 5_000, ...options });
  stores.push(store);
  return store;
}

describe("createRedisCache over TLS with an ACL user", () => {
  it("connects with rediss:// and the test's CA, and shares tokens between processes' stores", async () => {
    const emulator = await startEmulator({ config: demoEmulatorConfig() });
    try {
      const keyPrefix = `t-${randomUUID()}:`;
      // A store per acquisition: each stands for another process with its own connection.
      const anotherProcess = () => cache({ url: urlWith(PASSWORD), tls: { ca: redis.ca.caPem }, keyPrefix });
      const first = await acquireCold(emulator, anotherProcess());
      expect(first.source).toBe("network");
      const second = await acquireCold(emulator, anotherProcess());
      expect(second.source).toBe("shared-cache");
      expect(second.accessToken === first.accessToken).toBe(true);
      await expectValidEmulatorToken(second.accessToken, { jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId });
      expect(emulator.tokenRequestCount()).toBe(1);
      // The entry went through the TLS port, logged in as the ACL user.
      expect(await redis.command("ACL", "LOG")).toEqual([]);
      expect(Number(await redis.command("DBSIZE"))).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
  });

  it("stores, reads and locks through an injected TLS client", async () => {
    const client = new Redis(redis.tlsPort, "127.0.0.1", { username: "daemon", password: PASSWORD, tls: { ca: redis.ca.caPem }, lazyConnect: true });
    client.on("error", () => undefined);
    try {
      const store = cache({ client, keyPrefix: `t-${randomUUID()}:` });
      await store.set("k", "v", Date.now() + HOUR);
      expect(await store.get("k")).toBe("v");
      const lock = await store.lock!("k", { ttlMs: 10_000 });
      expect(lock).toBeDefined();
      await lock!.release();
    } finally {
      client.disconnect();
    }
  });

  it("says a wrong password is a credentials problem, with no password anywhere in the error chain", async () => {
    const store = cache({ url: urlWith(WRONG_PASSWORD), tls: { ca: redis.ca.caPem } });
    for (const operation of [() => store.get("k"), () => store.set("k", "v", Date.now() + HOUR), () => store.lock!("k", { ttlMs: 1000 })]) {
      const error = await failureOf(operation());
      expect(error.code).toBe("ERR_CACHE");
      expect(error.message).toMatch(/refused this client's credentials/);
      expect(error.message).toMatch(/falls back to the token endpoint/);
      expect(error.message).toMatch(/user name and password in the Redis URL/);
      assertNoSecretIn(errorRenderings(error), secrets);
    }
    assertNoSecretIn(renderings(store), secrets);
  });

  it("says the server's certificate is not trusted when the CA is wrong, with no password anywhere in the error chain", async () => {
    const store = cache({ url: urlWith(PASSWORD), tls: { ca: otherCa.caPem } });
    for (const operation of [() => store.get("k"), () => store.set("k", "v", Date.now() + HOUR), () => store.lock!("k", { ttlMs: 1000 })]) {
      const error = await failureOf(operation());
      expect(error.code).toBe("ERR_CACHE");
      expect(error.message).toMatch(/TLS certificate/);
      expect(error.message).toMatch(/falls back to the token endpoint/);
      expect(error.message).toMatch(/`tls` option/);
      assertNoSecretIn(errorRenderings(error), secrets);
    }
    assertNoSecretIn(renderings(store), secrets);
  });

  it("says the server's certificate is not trusted when no CA is given for a private CA", async () => {
    const store = cache({ url: urlWith(PASSWORD) });
    const error = await failureOf(store.get("k"));
    expect(error.message).toMatch(/TLS certificate/);
    assertNoSecretIn(errorRenderings(error), secrets);
  });
});

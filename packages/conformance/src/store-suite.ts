import { createDaemonClient, type ClientCredential, type TokenCacheStore } from "@daemon-auth/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startLoopbackTokenServer } from "./lib/token-server.js";
import { eventually, randomKey, sleep } from "./lib/wait.js";

/** A store built for one test, and how to tear down what it needs. */
export interface StoreUnderTest {
  /** A fresh store. It must not see entries written by other tests' stores. */
  store: TokenCacheStore;
  /** Runs after the suite has disposed `store`: stop servers, remove directories, close injected clients. */
  cleanup?: () => Promise<void>;
}

/** Options of {@link describeTokenCacheStore}. */
export interface StoreSuiteOptions {
  /**
   * The store implements `lock()`; runs the lock group.
   * @default false
   */
  lock?: boolean;
  /**
   * How late, in milliseconds, the store may notice that an entry or a lock expired.
   * @default 1000
   */
  expiryResolutionMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Keys that break naive stores: path traversal and separators (file stores), NUL and
 * newlines (line protocols, file names), very long keys (file-name and key-length
 * limits, truncating hashes), keys that only differ by case (case-insensitive file
 * systems), keys that normalise to the same path, and prototype names (object-backed
 * maps).
 */
const HOSTILE_KEYS: readonly string[] = [
  "",
  "../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "/etc/passwd",
  "a/b\\c",
  "a",
  "./a",
  "x/../a",
  "a/",
  "A",
  "key",
  "Key",
  "KEY",
  "nul\0byte",
  "nul\0bytf",
  "line\nbreak",
  "line\r\nbreak",
  "tab\tand space ",
  "k".repeat(4096),
  `${"k".repeat(4095)}a`,
  `${"k".repeat(4095)}b`,
  "ünïcødé/日本語/🔑",
  "u\u0301", // "ú" decomposed: must not collide with the composed form below
  "\u00fa",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "*",
  "?",
  "%2e%2e%2f",
  "CON",
  "key:lock",
];

/**
 * Registers the `TokenCacheStore` conformance suite under `describe(name)`. Every test
 * gets a fresh store from `create` and random keys; the suite disposes the store and
 * then calls `cleanup` after each test.
 *
 * @example
 * describeTokenCacheStore("memory", () => ({ store: createMemoryCache() }), { lock: true });
 */
export function describeTokenCacheStore(
  name: string,
  create: () => Promise<StoreUnderTest> | StoreUnderTest,
  options: StoreSuiteOptions = {},
): void {
  const expiryResolutionMs = options.expiryResolutionMs ?? 1000;
  let current: StoreUnderTest | undefined;
  const store = (): TokenCacheStore => {
    if (!current) throw new Error("The store under test was not created; did create() throw?");
    return current.store;
  };

  describe(`TokenCacheStore conformance: ${name}`, () => {
    beforeEach(async () => {
      current = await create();
    });

    afterEach(async () => {
      const done = current;
      current = undefined;
      if (!done) return;
      try {
        await done.store.dispose?.();
      } finally {
        await done.cleanup?.();
      }
    });

    describe("basics", () => {
      it("round-trips a value", async () => {
        const key = randomKey();
        await store().set(key, "value-1", Date.now() + DAY_MS);
        expect(await store().get(key)).toBe("value-1");
      });

      it("resolves undefined for a missing key", async () => {
        expect(await store().get(randomKey())).toBeUndefined();
      });

      it("resolves undefined for prototype names that were never set", async () => {
        for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) {
          expect(await store().get(key), key).toBeUndefined();
        }
      });

      it("round-trips the empty string as a value", async () => {
        const key = randomKey();
        await store().set(key, "", Date.now() + DAY_MS);
        expect(await store().get(key)).toBe("");
      });

      it("overwrites a value", async () => {
        const key = randomKey();
        await store().set(key, "first", Date.now() + DAY_MS);
        await store().set(key, "second", Date.now() + DAY_MS);
        expect(await store().get(key)).toBe("second");
      });

      it("keeps entries under different keys apart", async () => {
        const [a, b] = [randomKey("a"), randomKey("b")];
        await store().set(a, "value-a", Date.now() + DAY_MS);
        await store().set(b, "value-b", Date.now() + DAY_MS);
        expect(await store().get(a)).toBe("value-a");
        expect(await store().get(b)).toBe("value-b");
      });

      it("deletes a value", async () => {
        const [key, other] = [randomKey(), randomKey("other")];
        await store().set(key, "value", Date.now() + DAY_MS);
        await store().set(other, "kept", Date.now() + DAY_MS);
        await store().delete(key);
        expect(await store().get(key)).toBeUndefined();
        expect(await store().get(other)).toBe("kept");
      });

      it("deletes a missing key without error", async () => {
        await expect(store().delete(randomKey())).resolves.toBeUndefined();
      });
    });

    describe("absolute expiry", () => {
      it("drops an entry once its expiresAt has passed", async () => {
        const key = randomKey();
        const expiresAt = Date.now() + 300;
        await store().set(key, "short-lived", expiresAt);
        // Right after set the entry must be there, unless this machine stalled past its expiry.
        const early = await store().get(key);
        if (Date.now() < expiresAt) expect(early).toBe("short-lived");
        const gone = await eventually(
          async () => (await store().get(key)) === undefined,
          Math.max(0, expiresAt - Date.now()) + expiryResolutionMs,
        );
        expect(gone, `the entry was still returned ${expiryResolutionMs} ms after its expiresAt`).toBe(true);
      });

      it("accepts an expiresAt in the past and stores nothing", async () => {
        const key = randomKey();
        await expect(store().set(key, "stale", Date.now() - 1000)).resolves.toBeUndefined();
        expect(await store().get(key)).toBeUndefined();
      });

      it("leaves no value behind when an entry is overwritten with a past expiresAt", async () => {
        const key = randomKey();
        await store().set(key, "fresh", Date.now() + DAY_MS);
        await store().set(key, "stale", Date.now() - 1000);
        expect(await store().get(key)).toBeUndefined();
      });

      it("keeps the later expiry when an entry is overwritten", async () => {
        const key = randomKey();
        await store().set(key, "first", Date.now() + 150);
        await store().set(key, "second", Date.now() + DAY_MS);
        await sleep(200);
        expect(await store().get(key)).toBe("second");
      });
    });

    describe("hostile keys", () => {
      it("round-trips hostile keys without collisions", async () => {
        const expiresAt = Date.now() + DAY_MS;
        const valueOf = (index: number): string => `value-${index}`;
        for (const [index, key] of HOSTILE_KEYS.entries()) {
          await store().set(key, valueOf(index), expiresAt);
        }
        for (const [index, key] of HOSTILE_KEYS.entries()) {
          expect(await store().get(key), `key #${index} ${JSON.stringify(key.slice(0, 40))}`).toBe(valueOf(index));
        }
      });

      it("deletes one hostile key without touching the others", async () => {
        const expiresAt = Date.now() + DAY_MS;
        for (const [index, key] of HOSTILE_KEYS.entries()) {
          await store().set(key, `value-${index}`, expiresAt);
        }
        await store().delete("a");
        await store().delete("../../etc/passwd");
        for (const [index, key] of HOSTILE_KEYS.entries()) {
          const expected = key === "a" || key === "../../etc/passwd" ? undefined : `value-${index}`;
          expect(await store().get(key), `key #${index} ${JSON.stringify(key.slice(0, 40))}`).toBe(expected);
        }
      });

      it("does not let a traversal key read another entry", async () => {
        const base = randomKey("base");
        await store().set(base, "base-value", Date.now() + DAY_MS);
        for (const key of [`x/../${base}`, `./${base}`, `${base}/`, `${base}/.`, `${base}\0`, base.toUpperCase()]) {
          expect(await store().get(key), JSON.stringify(key)).toBeUndefined();
        }
      });
    });

    describe("values", () => {
      it("round-trips a 256 KB value with non-ASCII characters", async () => {
        const key = randomKey();
        const value = "{\"t\":\"abc€😀\\n\"}".repeat(Math.ceil((256 * 1024) / 16)).slice(0, 256 * 1024);
        await store().set(key, value, Date.now() + DAY_MS);
        const read = await store().get(key);
        expect(read?.length).toBe(value.length);
        expect(read === value, "the value read back differs from the value written").toBe(true);
      });

      it("round-trips values with newlines, NUL and quotes", async () => {
        const key = randomKey();
        const value = "line 1\nline 2\r\n\0'\"\\ \u2028 end";
        await store().set(key, value, Date.now() + DAY_MS);
        expect(await store().get(key)).toBe(value);
      });
    });

    describe("concurrency", () => {
      it("ends consistent after 200 parallel sets and gets on overlapping keys", async () => {
        const keys = Array.from({ length: 10 }, (_, index) => randomKey(`shared-${index}`));
        const written = new Map<string, Set<string>>(keys.map((key) => [key, new Set<string>()]));
        // Long values whose halves differ, so a torn write cannot pass for one of them.
        const valueFor = (index: number): string =>
          `${index}:` + String.fromCharCode(97 + (index % 26)).repeat(2048) + String.fromCharCode(65 + (index % 26)).repeat(2048);
        const expiresAt = Date.now() + DAY_MS;
        const operations = Array.from({ length: 200 }, (_, index) => {
          const key = keys[Math.floor(index / 2) % keys.length] as string;
          if (index % 2 === 0) {
            const value = valueFor(index);
            written.get(key)?.add(value);
            return store().set(key, value, expiresAt).then(() => ({ key, read: undefined, wrote: true }));
          }
          return store()
            .get(key)
            .then((read) => ({ key, read, wrote: false }));
        });
        const results = await Promise.all(operations);
        for (const result of results) {
          if (result.wrote || result.read === undefined) continue;
          expect(written.get(result.key)?.has(result.read), "a get returned a value that was never written").toBe(true);
        }
        for (const key of keys) {
          const final = await store().get(key);
          expect(final, "every key was written, so it must hold a value").toBeDefined();
          expect(written.get(key)?.has(final as string), "the final value is not one of the values written").toBe(true);
        }
      });
    });

    describe("client identities", () => {
      it("gives two clients whose key parts hold the key separator their own tokens", async () => {
        const server = await startLoopbackTokenServer();
        const credential: ClientCredential = { kind: "test-secret", getAuthentication: () => Promise.resolve({ clientSecret: "conformance" }) };
        const tenant = "22222222-2222-2222-2222-222222222222";
        const scopes = ["api://conformance/.default"];
        // Joined with a bare '|', both made the key '<url>/x|c1|app|<tenant>|<scope>' (issue #12).
        const identities = [
          { authority: `${server.url}/x|c1/${tenant}`, clientId: "app" },
          { authority: `${server.url}/x/${tenant}`, clientId: "c1|app" },
        ];
        const clients = [...identities, ...identities].map((identity) => createDaemonClient({ ...identity, credential, cache: store() }));
        try {
          const [a, b, a2, b2] = clients;
          const tokenA = await a?.acquireTokenForClient({ scopes });
          const tokenB = await b?.acquireTokenForClient({ scopes });
          expect(tokenB?.source, "the second client was answered from the first one's entry").toBe("network");
          expect(tokenB?.accessToken).not.toBe(tokenA?.accessToken);
          expect(server.clientIds).toEqual(["app", "c1|app"]);
          // Each entry still serves other clients of its own identity.
          expect((await a2?.acquireTokenForClient({ scopes }))?.accessToken).toBe(tokenA?.accessToken);
          expect((await b2?.acquireTokenForClient({ scopes }))?.accessToken).toBe(tokenB?.accessToken);
          expect(server.clientIds).toHaveLength(2);
        } finally {
          await Promise.all(clients.map((client) => client.dispose()));
          await server.close();
        }
      });
    });

    describe("lifecycle", () => {
      it("can be disposed twice", async () => {
        await store().dispose?.();
        await store().dispose?.();
      });
    });

    if (options.lock) {
      describe("lock", () => {
        const lockOf = (target: TokenCacheStore): NonNullable<TokenCacheStore["lock"]> => {
          const lock = target.lock?.bind(target);
          if (!lock) throw new Error("The suite was run with { lock: true } but the store has no lock() method.");
          return lock;
        };

        it("takes a free key", async () => {
          const held = await lockOf(store())(randomKey(), { ttlMs: 10_000 });
          expect(held).toBeDefined();
          expect(typeof held?.release).toBe("function");
        });

        it("refuses a second holder without waiting", async () => {
          const key = randomKey();
          const first = await lockOf(store())(key, { ttlMs: 10_000 });
          expect(first).toBeDefined();
          expect(await lockOf(store())(key, { ttlMs: 10_000 })).toBeUndefined();
        });

        it("frees the key on release", async () => {
          const key = randomKey();
          const first = await lockOf(store())(key, { ttlMs: 10_000 });
          await first?.release();
          expect(await lockOf(store())(key, { ttlMs: 10_000 })).toBeDefined();
        });

        it("releases idempotently, without freeing a later holder's lock", async () => {
          const key = randomKey();
          const first = await lockOf(store())(key, { ttlMs: 10_000 });
          await first?.release();
          await expect(first?.release()).resolves.toBeUndefined();
          const second = await lockOf(store())(key, { ttlMs: 10_000 });
          expect(second).toBeDefined();
          await first?.release();
          expect(await lockOf(store())(key, { ttlMs: 10_000 }), "an old holder's release freed the new holder's lock").toBeUndefined();
        });

        it("lets another holder take a lock whose ttl passed, and ignores the stale holder's late release", async () => {
          const key = randomKey();
          const stale = await lockOf(store())(key, { ttlMs: 200 });
          expect(stale).toBeDefined();
          let next: Awaited<ReturnType<NonNullable<TokenCacheStore["lock"]>>>;
          const taken = await eventually(async () => {
            next = await lockOf(store())(key, { ttlMs: 10_000 });
            return next !== undefined;
          }, 200 + expiryResolutionMs);
          expect(taken, `the lock was still held ${expiryResolutionMs} ms after its ttl`).toBe(true);
          await stale?.release();
          expect(await lockOf(store())(key, { ttlMs: 10_000 }), "the stale holder's release freed the new holder's lock").toBeUndefined();
        });

        it("locks different keys independently", async () => {
          const [a, b] = [randomKey("a"), randomKey("b")];
          const lockA = await lockOf(store())(a, { ttlMs: 10_000 });
          const lockB = await lockOf(store())(b, { ttlMs: 10_000 });
          expect(lockA).toBeDefined();
          expect(lockB).toBeDefined();
          await lockA?.release();
          expect(await lockOf(store())(b, { ttlMs: 10_000 }), "releasing one key freed another").toBeUndefined();
        });

        it("gives exactly one of many concurrent callers the lock", async () => {
          const key = randomKey();
          const attempts = await Promise.all(Array.from({ length: 20 }, () => lockOf(store())(key, { ttlMs: 10_000 })));
          expect(attempts.filter((held) => held !== undefined)).toHaveLength(1);
        });

        it("does not touch the entry stored under the locked key", async () => {
          const key = randomKey();
          const neighbours = [`${key}:lock`, `${key}.lock`, `lock:${key}`, `${key}:lock:token`];
          await store().set(key, "entry", Date.now() + DAY_MS);
          for (const neighbour of neighbours) await store().set(neighbour, "neighbour", Date.now() + DAY_MS);
          const held = await lockOf(store())(key, { ttlMs: 10_000 });
          expect(held, "an entry whose key looks like a lock name blocked the lock").toBeDefined();
          expect(await store().get(key)).toBe("entry");
          for (const neighbour of neighbours) expect(await store().get(neighbour), neighbour).toBe("neighbour");
          await store().set(key, "entry-2", Date.now() + DAY_MS);
          expect(await store().get(key)).toBe("entry-2");
          await held?.release();
          expect(await store().get(key)).toBe("entry-2");
          await store().delete(key);
          expect(await lockOf(store())(key, { ttlMs: 10_000 })).toBeDefined();
        });
      });
    }
  });
}

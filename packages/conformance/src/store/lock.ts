import type { TokenCacheStore } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { eventually, randomKey } from "../lib/wait.js";
import { DAY_MS, type StoreGroupContext } from "./context.js";

/** The lock group: `lock(key, { ttlMs })` takes a free key, refuses a second holder, expires, and releases only its own hold. Run it only for stores that implement `lock()`. */
export function storeLockTests(context: StoreGroupContext): void {
  const { store, expiryResolutionMs } = context;
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

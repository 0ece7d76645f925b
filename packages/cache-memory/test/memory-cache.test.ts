import { CacheError, ConfigurationError, type Clock } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { createMemoryCache } from "../src/index.js";

const HOUR = 3_600_000;

function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

async function present(store: ReturnType<typeof createMemoryCache>, keys: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const key of keys) if ((await store.get(key)) !== undefined) found.push(key);
  return found;
}

describe("createMemoryCache", () => {
  it('is named "memory"', () => {
    expect(createMemoryCache().name).toBe("memory");
  });

  describe("options", () => {
    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "10"])("refuses maxEntries %s with a ConfigurationError", (maxEntries) => {
      expect(() => createMemoryCache({ maxEntries: maxEntries as number })).toThrow(ConfigurationError);
      expect(() => createMemoryCache({ maxEntries: maxEntries as number })).toThrow(/^createMemoryCache: 'maxEntries' must be a positive integer, like \{ maxEntries: 10000 \}; got /);
    });

    it("refuses a clock without now()", () => {
      expect(() => createMemoryCache({ clock: {} as Clock })).toThrow(ConfigurationError);
    });
  });

  describe("LRU eviction", () => {
    it("evicts the least recently written entry past maxEntries", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ maxEntries: 3, clock });
      for (const key of ["a", "b", "c", "d"]) await store.set(key, key, clock.now() + HOUR);
      expect(await present(store, ["a", "b", "c", "d"])).toEqual(["b", "c", "d"]);
    });

    it("counts a read as a use", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ maxEntries: 3, clock });
      for (const key of ["a", "b", "c"]) await store.set(key, key, clock.now() + HOUR);
      await store.get("a");
      await store.set("d", "d", clock.now() + HOUR);
      expect(await present(store, ["a", "b", "c", "d"])).toEqual(["a", "c", "d"]);
    });

    it("counts an overwrite as a use and does not grow", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ maxEntries: 3, clock });
      for (const key of ["a", "b", "c"]) await store.set(key, key, clock.now() + HOUR);
      await store.set("a", "a2", clock.now() + HOUR);
      await store.set("d", "d", clock.now() + HOUR);
      expect(await present(store, ["a", "b", "c", "d"])).toEqual(["a", "c", "d"]);
      expect(await store.get("a")).toBe("a2");
    });

    it("drops expired entries before evicting live ones when the bound is reached", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ maxEntries: 3, clock });
      await store.set("a", "a", clock.now() + HOUR);
      await store.set("b", "b", clock.now() + HOUR);
      await store.set("short", "short", clock.now() + 1000);
      clock.advance(1001);
      await store.set("d", "d", clock.now() + HOUR);
      expect(await present(store, ["a", "b", "short", "d"])).toEqual(["a", "b", "d"]);
    });

    it("never holds more than maxEntries under many writes", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ maxEntries: 10, clock });
      const keys = Array.from({ length: 100 }, (_, index) => `k${index}`);
      for (const key of keys) await store.set(key, key, clock.now() + HOUR);
      expect(await present(store, keys)).toEqual(keys.slice(90));
    });

    it("does not count deleted entries against the bound", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ maxEntries: 2, clock });
      await store.set("a", "a", clock.now() + HOUR);
      await store.set("b", "b", clock.now() + HOUR);
      await store.delete("b");
      await store.set("c", "c", clock.now() + HOUR);
      expect(await present(store, ["a", "b", "c"])).toEqual(["a", "c"]);
    });
  });

  describe("expiry on the injected clock", () => {
    it("serves an entry until its expiresAt and not after", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ clock });
      await store.set("k", "v", clock.now() + 1000);
      clock.advance(999);
      expect(await store.get("k")).toBe("v");
      clock.advance(1);
      expect(await store.get("k")).toBeUndefined();
    });

    it("frees a lock when its ttl passes on the injected clock", async () => {
      const clock = manualClock();
      const store = createMemoryCache({ clock });
      const first = await store.lock?.("k", { ttlMs: 5000 });
      expect(first).toBeDefined();
      clock.advance(4999);
      expect(await store.lock?.("k", { ttlMs: 5000 })).toBeUndefined();
      clock.advance(1);
      expect(await store.lock?.("k", { ttlMs: 5000 })).toBeDefined();
    });
  });

  describe("input validation", () => {
    it("refuses non-string values and bad timestamps with a CacheError", async () => {
      const store = createMemoryCache();
      await expect(store.set("k", 42 as unknown as string, Date.now() + HOUR)).rejects.toThrow(CacheError);
      await expect(store.set("k", "v", Number.NaN)).rejects.toThrow(/expiresAt/);
      await expect(store.set("k", "v", "soon" as unknown as number)).rejects.toThrow(CacheError);
      await expect(store.get(1 as unknown as string)).rejects.toThrow(/string key/);
    });

    it("refuses a lock without a positive ttlMs, in the option dialect", async () => {
      const store = createMemoryCache();
      await expect(store.lock?.("k", { ttlMs: 0 })).rejects.toThrow(
        /^memoryCache\.lock: 'ttlMs' must be a positive number of milliseconds, like 30000; got 0\.$/,
      );
      await expect(store.lock?.("k", {} as { ttlMs: number })).rejects.toThrow(ConfigurationError);
      await expect(store.lock?.("k", { ttlMs: Number.POSITIVE_INFINITY })).rejects.toThrow(/^memoryCache\.lock: 'ttlMs' must be .*; got Infinity\.$/);
      // Refused before taking it: the key stays free.
      expect(await store.lock?.("k", { ttlMs: 1_000 })).toBeDefined();
    });

    it("keeps string values out of validation messages", async () => {
      const store = createMemoryCache();
      const error = await store.set("k", "v", "s3cr3t-looking-string" as unknown as number).catch((caught: unknown) => caught);
      expect(String(error)).not.toContain("s3cr3t");
    });
  });

  describe("sharing", () => {
    it("lets clients in one process share entries and one lock per key", async () => {
      const store = createMemoryCache();
      const holders = await Promise.all([store.lock?.("token-key", { ttlMs: 1000 }), store.lock?.("token-key", { ttlMs: 1000 })]);
      expect(holders.filter(Boolean)).toHaveLength(1);
      await store.set("token-key", "entry", Date.now() + HOUR);
      expect(await store.get("token-key")).toBe("entry");
    });

    it("empties on dispose", async () => {
      const store = createMemoryCache();
      await store.set("k", "v", Date.now() + HOUR);
      await store.lock?.("k", { ttlMs: 60_000 });
      await store.dispose?.();
      expect(await store.get("k")).toBeUndefined();
      expect(await store.lock?.("k", { ttlMs: 60_000 })).toBeDefined();
    });
  });
});

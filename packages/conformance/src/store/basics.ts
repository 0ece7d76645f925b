import { describe, expect, it } from "vitest";
import { randomKey } from "../lib/wait.js";
import { DAY_MS, type StoreGroupContext } from "./context.js";

/** The basics: set, get, overwrite, delete, missing keys. */
export function storeBasicsTests(context: StoreGroupContext): void {
  const { store } = context;
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
}

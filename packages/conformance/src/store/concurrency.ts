import { describe, expect, it } from "vitest";
import { randomKey } from "../lib/wait.js";
import { DAY_MS, type StoreGroupContext } from "./context.js";

/** Parallel sets and gets on overlapping keys leave no torn or invented values. */
export function storeConcurrencyTests(context: StoreGroupContext): void {
  const { store } = context;
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
}

import { describe, expect, it } from "vitest";
import { randomKey } from "../lib/wait.js";
import { DAY_MS, type StoreGroupContext } from "./context.js";

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

/** Hostile keys (traversal, separators, NUL, case, Unicode normal forms, prototype names) round-trip without collisions. */
export function storeHostileKeyTests(context: StoreGroupContext): void {
  const { store } = context;
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
}

import { describe, expect, it } from "vitest";
import { randomKey } from "../lib/wait.js";
import { DAY_MS, type StoreGroupContext } from "./context.js";

/** Values come back byte for byte: large, non-ASCII, newlines, NUL and quotes. */
export function storeValueTests(context: StoreGroupContext): void {
  const { store } = context;
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
}

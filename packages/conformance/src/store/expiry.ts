import { describe, expect, it } from "vitest";
import { eventually, randomKey, sleep } from "../lib/wait.js";
import { DAY_MS, type StoreGroupContext } from "./context.js";

/** Absolute expiry: an entry is gone once its `expiresAt` passed, within `expiryResolutionMs`. */
export function storeExpiryTests(context: StoreGroupContext): void {
  const { store, expiryResolutionMs } = context;
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
}

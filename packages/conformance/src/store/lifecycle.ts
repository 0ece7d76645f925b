import { describe, it } from "vitest";
import type { StoreGroupContext } from "./context.js";

/** `dispose()` can be called twice. */
export function storeLifecycleTests(context: StoreGroupContext): void {
  const { store } = context;
  describe("lifecycle", () => {
    it("can be disposed twice", async () => {
      await store().dispose?.();
      await store().dispose?.();
    });
  });
}

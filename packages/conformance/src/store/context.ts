// What every group of the store conformance suite shares: the store under test, built
// fresh for each test, and how late the store may notice an expiry.
import type { TokenCacheStore } from "@daemon-auth/core";
import { afterEach, beforeEach } from "vitest";

/** A store built for one test, and how to tear down what it needs. */
export interface StoreUnderTest {
  /** A fresh store. It must not see entries written by other tests' stores. */
  store: TokenCacheStore;
  /** Runs after the suite has disposed `store`: stop servers, remove directories, close injected clients. */
  cleanup?: () => Promise<void>;
}

/** What a store group's tests use; made by {@link useStoreUnderTest}. */
export interface StoreGroupContext {
  /** The current test's store. */
  readonly store: () => TokenCacheStore;
  /** How late, in milliseconds, the store may notice that an entry or a lock expired. */
  readonly expiryResolutionMs: number;
}

/** A day in milliseconds: an expiry no test outlives. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Registers, in the enclosing `describe`, a fresh store from `create` before each test,
 * and its disposal and `cleanup` after it; returns the context the store groups take.
 * Call it inside `describe` to run single groups.
 *
 * @example
 * describe("my store: lock only", () => {
 *   storeLockTests(useStoreUnderTest(() => ({ store: createMyStore() })));
 * });
 */
export function useStoreUnderTest(
  create: () => Promise<StoreUnderTest> | StoreUnderTest,
  options: { expiryResolutionMs?: number } = {},
): StoreGroupContext {
  let current: StoreUnderTest | undefined;
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
  return {
    store: (): TokenCacheStore => {
      if (!current) throw new Error("The store under test was not created; did create() throw?");
      return current.store;
    },
    expiryResolutionMs: options.expiryResolutionMs ?? 1000,
  };
}

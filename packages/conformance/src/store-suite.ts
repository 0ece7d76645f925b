// The `TokenCacheStore` conformance suite: one entry composing the groups of ./store/,
// one file each, so an adapter author can run only the group that fails.
import { describe } from "vitest";
import { storeBasicsTests } from "./store/basics.js";
import { storeClientIdentityTests } from "./store/client-identities.js";
import { storeConcurrencyTests } from "./store/concurrency.js";
import { useStoreUnderTest, type StoreGroupContext, type StoreUnderTest } from "./store/context.js";
import { storeExpiryTests } from "./store/expiry.js";
import { storeHostileKeyTests } from "./store/hostile-keys.js";
import { storeLifecycleTests } from "./store/lifecycle.js";
import { storeLockTests } from "./store/lock.js";
import { storeValueTests } from "./store/values.js";

/** The groups of the store suite by name, in the order the full suite runs them. */
export const STORE_GROUPS = {
  basics: storeBasicsTests,
  expiry: storeExpiryTests,
  "hostile-keys": storeHostileKeyTests,
  values: storeValueTests,
  concurrency: storeConcurrencyTests,
  "client-identities": storeClientIdentityTests,
  lifecycle: storeLifecycleTests,
  lock: storeLockTests,
} as const satisfies Record<string, (context: StoreGroupContext) => void>;

/** The name of one group of the store suite. */
export type StoreGroupName = keyof typeof STORE_GROUPS;

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
  /**
   * Runs only these groups, e.g. `["lock"]` while fixing a lock (the lock group still
   * needs `lock: true`).
   * @default every group
   */
  groups?: readonly StoreGroupName[];
}

/**
 * Registers the `TokenCacheStore` conformance suite under `describe(name)`. Every test
 * gets a fresh store from `create` and random keys; the suite disposes the store and
 * then calls `cleanup` after each test.
 *
 * @example
 * describeTokenCacheStore("memory", () => ({ store: createMemoryCache() }), { lock: true });
 * describeTokenCacheStore("memory", () => ({ store: createMemoryCache() }), { lock: true, groups: ["lock"] });
 */
export function describeTokenCacheStore(
  name: string,
  create: () => Promise<StoreUnderTest> | StoreUnderTest,
  options: StoreSuiteOptions = {},
): void {
  const selected = new Set<StoreGroupName>(options.groups ?? (Object.keys(STORE_GROUPS) as StoreGroupName[]));
  describe(`TokenCacheStore conformance: ${name}`, () => {
    const context = useStoreUnderTest(create, options);
    for (const [group, register] of Object.entries(STORE_GROUPS) as [StoreGroupName, (context: StoreGroupContext) => void][]) {
      if (!selected.has(group) || (group === "lock" && options.lock !== true)) continue;
      register(context);
    }
  });
}

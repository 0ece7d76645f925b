import type { ConfidentialClientApplication } from "@azure/msal-node";
import type { DaemonClient } from "@daemon-auth/core";
import { BENCH_IDS, benchTenant, msalAuthority, msalClient, ourClient } from "./clients.js";
import { createFakeNetwork } from "./fake-network.js";
import { collectGarbage, median, medianMicrosPerCall } from "./measure.js";

/** How hard each scenario works; the defaults keep a full run near a minute on 2 cores. */
export interface BenchSizes {
  /**
   * Timed runs per figure; the median is reported.
   * @default 5
   */
  repetitions: number;
  /**
   * Calls per timed run of a cache-hit scenario.
   * @default 20000
   */
  hitIterations: number;
  /**
   * Tenant counts of the many-tenant scenario.
   * @default [1, 100, 1000, 10000, 100000]
   */
  tenantCounts: readonly number[];
  /**
   * msal-node is skipped at larger tenant counts once filling its cache for one count took longer than this, in milliseconds.
   * @default 20000
   */
  msalFillBudgetMs: number;
  /**
   * Concurrent cold callers of the stampede scenario.
   * @default 1000
   */
  concurrentCallers: number;
  /**
   * Length of each library's run against the emulator, in milliseconds; 0 skips that scenario.
   * @default 3000
   */
  emulatorDurationMs: number;
}

/** Defaults of {@link BenchSizes}. */
export const DEFAULT_SIZES: BenchSizes = {
  repetitions: 5,
  hitIterations: 20_000,
  tenantCounts: [1, 100, 1_000, 10_000, 100_000],
  msalFillBudgetMs: 20_000,
  concurrentCallers: 1_000,
  emulatorDurationMs: 3_000,
};

/** One figure for both libraries; `msal` is undefined when it was not measured. */
export interface Figure {
  readonly scenario: string;
  readonly unit: string;
  readonly ours: number;
  readonly msal: number | undefined;
  readonly note?: string;
}

function ourRequest(tenantId?: string): { scopes: string[]; tenantId?: string } {
  return tenantId === undefined ? { scopes: [BENCH_IDS.scope] } : { scopes: [BENCH_IDS.scope], tenantId };
}

function msalRequest(tenant?: string): { scopes: string[]; authority?: string } {
  return tenant === undefined ? { scopes: [BENCH_IDS.scope] } : { scopes: [BENCH_IDS.scope], authority: msalAuthority(tenant) };
}

async function msalToken(client: ConfidentialClientApplication, tenant?: string): Promise<void> {
  const result = await client.acquireTokenByClientCredential(msalRequest(tenant));
  if (result === null) throw new Error("msal-node returned no token; the fake network is miswired.");
}

/** Scenario 1: a cache hit for the client's own tenant. */
export async function cacheHitOneTenant(sizes: BenchSizes): Promise<Figure> {
  const network = createFakeNetwork();
  const ours = ourClient(network);
  const msal = msalClient(network);
  try {
    await ours.acquireTokenForClient(ourRequest());
    await msalToken(msal);
    const oursUs = await medianMicrosPerCall(sizes.repetitions, sizes.hitIterations, () => ours.acquireTokenForClient(ourRequest()));
    const msalUs = await medianMicrosPerCall(sizes.repetitions, sizes.hitIterations, () => msalToken(msal));
    return { scenario: "cache hit, one tenant", unit: "µs/call", ours: oursUs, msal: msalUs };
  } finally {
    await ours.dispose();
  }
}

/**
 * Calls per timed run at `tenants` cached tenants: fewer when a call scans the cache, so
 * a slow library still finishes, but at least as many as there are tenants up to the hit count.
 */
function iterationsFor(sizes: BenchSizes, microsPerCall: number): number {
  const budgetUs = 300_000;
  return Math.max(50, Math.min(sizes.hitIterations, Math.floor(budgetUs / Math.max(microsPerCall, 0.001))));
}

async function manyTenantsOurs(sizes: BenchSizes, tenants: number): Promise<number> {
  const network = createFakeNetwork();
  const ours = ourClient(network, Math.max(tenants, 1));
  try {
    for (let t = 0; t < tenants; t++) await ours.acquireTokenForClient(ourRequest(benchTenant(t)));
    const order = spread(tenants);
    const call = (i: number): Promise<unknown> => ours.acquireTokenForClient(ourRequest(benchTenant(order[i % order.length] ?? 0)));
    return await medianMicrosPerCall(sizes.repetitions, sizes.hitIterations, call);
  } finally {
    await ours.dispose();
  }
}

async function manyTenantsMsal(sizes: BenchSizes, tenants: number): Promise<{ us: number; fillMs: number }> {
  const network = createFakeNetwork();
  const msal = msalClient(network);
  const fillStart = performance.now();
  for (let t = 0; t < tenants; t++) await msalToken(msal, benchTenant(t));
  const fillMs = performance.now() - fillStart;
  const order = spread(tenants);
  const call = (i: number): Promise<void> => msalToken(msal, benchTenant(order[i % order.length] ?? 0));
  // A probe sizes the timed runs: msal-node may scan its cache on each call.
  const probe = await medianMicrosPerCall(1, 20, call);
  const us = await medianMicrosPerCall(sizes.repetitions, iterationsFor(sizes, probe), call);
  return { us, fillMs };
}

/** A fixed pseudo-random visiting order of the tenants, so no cache sees them in insertion order. */
function spread(tenants: number): number[] {
  const length = Math.min(Math.max(tenants, 1), 65_536);
  const order: number[] = [];
  let x = 2_463_534_242;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    order.push((x >>> 0) % Math.max(tenants, 1));
  }
  return order;
}

/** Scenario 2: a cache hit for a per-request tenant among many cached ones. */
export async function cacheHitManyTenants(
  sizes: BenchSizes,
  progress: (line: string) => void = () => {},
): Promise<{ figures: Figure[]; flat: boolean | undefined }> {
  const figures: Figure[] = [];
  let msalSkipReason: string | undefined;
  const oursByCount = new Map<number, number>();
  const counts = [...sizes.tenantCounts].sort((a, b) => a - b);
  for (const [index, tenants] of counts.entries()) {
    collectGarbage();
    const oursUs = await manyTenantsOurs(sizes, tenants);
    oursByCount.set(tenants, oursUs);
    progress(`  ${tenants} tenants: daemon-auth ${oursUs.toFixed(2)} µs/call`);
    let msalUs: number | undefined;
    let note: string;
    if (msalSkipReason !== undefined) {
      note = msalSkipReason;
    } else {
      collectGarbage();
      const result = await manyTenantsMsal(sizes, tenants);
      msalUs = result.us;
      note = `msal-node cache fill ${(result.fillMs / 1000).toFixed(1)} s`;
      progress(`  ${tenants} tenants: msal-node ${msalUs.toFixed(2)} µs/call, ${note}`);
      // Each msal-node call scans its cache, so filling grows with the square of the count.
      const next = counts[index + 1];
      const projectedMs = next === undefined ? 0 : result.fillMs * (next / tenants) ** 2;
      if (projectedMs > sizes.msalFillBudgetMs) {
        msalSkipReason = `msal-node not run: its cache fill would take ~${Math.round(projectedMs / 1000)} s or more (projected from the count before)`;
      }
    }
    figures.push({ scenario: `cache hit, ${tenants.toLocaleString("en-US")} tenants`, unit: "µs/call", ours: oursUs, msal: msalUs, note });
  }
  const smallest = oursByCount.get(counts[0] ?? 1);
  const largest = oursByCount.get(counts.at(-1) ?? 1);
  const flat = smallest === undefined || largest === undefined ? undefined : largest / smallest <= 1.5;
  return { figures, flat };
}

async function stampede(callers: number, run: (network: ReturnType<typeof createFakeNetwork>) => Promise<() => Promise<void>>): Promise<number> {
  const network = createFakeNetwork({ latencyMs: 20 });
  const dispose = await run(network);
  await dispose();
  return network.tokenRequests;
}

/** Scenario 3: `concurrentCallers` cold calls for one key at once; the figure is token requests made. */
export async function concurrentColdCalls(sizes: BenchSizes): Promise<Figure> {
  const callers = sizes.concurrentCallers;
  const oursRuns: number[] = [];
  const msalRuns: number[] = [];
  for (let r = 0; r < Math.min(sizes.repetitions, 3); r++) {
    oursRuns.push(
      await stampede(callers, async (network) => {
        const ours: DaemonClient = ourClient(network);
        await Promise.all(Array.from({ length: callers }, () => ours.acquireTokenForClient(ourRequest())));
        return () => ours.dispose();
      }),
    );
    msalRuns.push(
      await stampede(callers, async (network) => {
        const msal = msalClient(network);
        await Promise.all(Array.from({ length: callers }, () => msalToken(msal)));
        return () => Promise.resolve();
      }),
    );
  }
  return {
    scenario: `${callers.toLocaleString("en-US")} concurrent cold calls, one key`,
    unit: "token requests",
    ours: median(oursRuns),
    msal: median(msalRuns),
  };
}

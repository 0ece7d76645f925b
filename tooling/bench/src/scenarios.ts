import type { ClientSecretCredential } from "@azure/identity";
import type { ConfidentialClientApplication } from "@azure/msal-node";
import type { DaemonClient } from "@daemon-auth/core";
import { BENCH_IDS, benchTenant, identityCredential, msalAuthority, msalClient, ourClient } from "./clients.js";
import { createFakeNetwork, type FakeNetwork } from "./fake-network.js";
import { collectGarbage, median, medianMicrosPerCall } from "./measure.js";

/** How hard each scenario works; the defaults keep a full run within about five minutes on 2 cores. */
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
   * An incumbent is skipped at larger tenant counts once filling its cache would take longer than this, in milliseconds.
   * @default 20000
   */
  fillBudgetMs: number;
  /**
   * Concurrent cold callers of the stampede scenario.
   * @default 1000
   */
  concurrentCallers: number;
  /**
   * Time each library and mode gets against the HTTPS emulator, in milliseconds, taken in
   * `repetitions` slices that alternate between the libraries; 0 skips that scenario.
   * @default 3000
   */
  emulatorDurationMs: number;
  /**
   * Callers asking for the token every few milliseconds while a proactive refresh happens; 0 skips that scenario.
   * @default 20
   */
  refreshCallers: number;
  /**
   * Tenants the certificate credential scenario goes round; 0 skips it.
   * @default 1000
   */
  certificateTenants: number;
  /**
   * Processes sharing one Redis; 0 skips that scenario.
   * @default 8
   */
  sharedProcesses: number;
  /**
   * Cached tokens of the memory scenario; 0 skips it.
   * @default 100000
   */
  memoryTenants: number;
  /**
   * Time the token sidecar and its floor each get, in milliseconds, taken in `repetitions`
   * alternating slices; 0 skips that figure.
   * @default 3000
   */
  sidecarDurationMs: number;
  /**
   * Callers of one key through the sidecar, against as many msal-node processes; 0 skips that figure.
   * @default 8
   */
  sidecarCallers: number;
  /**
   * Concurrent cold callers of the managed identity scenario (IMDS on the emulator); 0 skips it.
   * @default 1000
   */
  managedIdentityCallers: number;
}

/** Defaults of {@link BenchSizes}. */
export const DEFAULT_SIZES: BenchSizes = {
  repetitions: 5,
  hitIterations: 20_000,
  tenantCounts: [1, 100, 1_000, 10_000, 100_000],
  fillBudgetMs: 20_000,
  concurrentCallers: 1_000,
  emulatorDurationMs: 3_000,
  refreshCallers: 20,
  certificateTenants: 1_000,
  sharedProcesses: 8,
  memoryTenants: 100_000,
  sidecarDurationMs: 3_000,
  sidecarCallers: 8,
  managedIdentityCallers: 1_000,
};

/** The libraries beside daemon-auth, by the key their figure has in {@link Figure}. */
export const INCUMBENTS = { msal: "@azure/msal-node", identity: "@azure/identity" } as const;
export type Incumbent = keyof typeof INCUMBENTS;

/** One measured figure for every library; an incumbent's is undefined when it was not measured. */
export interface Figure {
  readonly scenario: string;
  readonly unit: string;
  readonly ours: number;
  readonly msal: number | undefined;
  readonly identity: number | undefined;
  /** Higher is better (a rate), so a ratio above 1 favours daemon-auth. */
  readonly higherIsBetter?: boolean;
  /** What the same work costs without any token library (a bare HTTP loop), where there is one. */
  readonly floor?: number;
  readonly note?: string;
}

const SCOPES = [BENCH_IDS.scope];

/** The cache-hit calls of each library, with a pre-built tenant string as a daemon holds its tenants. */
export type HitCall = (tenant: string | undefined) => Promise<unknown>;

export function ourHit(client: DaemonClient): HitCall {
  return (tenantId) => client.acquireTokenForClient(tenantId === undefined ? { scopes: SCOPES } : { scopes: SCOPES, tenantId });
}

export function msalHit(client: ConfidentialClientApplication): HitCall {
  return async (tenant) => {
    const result = await client.acquireTokenByClientCredential(
      tenant === undefined ? { scopes: SCOPES } : { scopes: SCOPES, authority: msalAuthority(tenant) },
    );
    if (result === null) throw new Error("msal-node returned no token; the fake network is miswired.");
  };
}

export function identityHit(credential: ClientSecretCredential): HitCall {
  return (tenantId) => credential.getToken(SCOPES, tenantId === undefined ? {} : { tenantId });
}

/** Lets the event loop turn and collects garbage, so what filling a cache left behind is not billed to the hits. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
  }
}

/** Scenario 1: a cache hit for the client's own tenant. */
export async function cacheHitOneTenant(sizes: BenchSizes): Promise<Figure> {
  const network = createFakeNetwork();
  const ours = ourClient(network);
  const calls = { ours: ourHit(ours), msal: msalHit(msalClient(network)), identity: identityHit(identityCredential(network)) };
  try {
    const us: Record<string, number> = {};
    for (const [name, call] of Object.entries(calls)) {
      await call(undefined);
      await settle();
      us[name] = await medianMicrosPerCall(sizes.repetitions, sizes.hitIterations, () => call(undefined));
    }
    return { scenario: "cache hit, one tenant", unit: "µs/call", ours: us["ours"] ?? Number.NaN, msal: us["msal"], identity: us["identity"] };
  } finally {
    await ours.dispose();
  }
}

/**
 * Calls per timed run at `tenants` cached tenants: fewer when a call scans the cache, so
 * a slow library still finishes.
 */
function iterationsFor(sizes: BenchSizes, microsPerCall: number): number {
  const budgetUs = 300_000;
  return Math.max(50, Math.min(sizes.hitIterations, Math.floor(budgetUs / Math.max(microsPerCall, 0.001))));
}

/** Fills a cache with `tenants` tenants, then times hits in a fixed pseudo-random tenant order. */
async function timeManyTenants(sizes: BenchSizes, tenants: number, call: HitCall): Promise<{ us: number; fillMs: number }> {
  const names = Array.from({ length: tenants }, (_, t) => benchTenant(t));
  const fillStart = performance.now();
  for (const name of names) await call(name);
  const fillMs = performance.now() - fillStart;
  await settle();
  const order = spread(tenants);
  const hit = (i: number): Promise<unknown> => call(names[order[i & (order.length - 1)] ?? 0]);
  // A probe sizes the timed runs: an incumbent may scan its cache on each call.
  const probe = await medianMicrosPerCall(1, 20, hit);
  const us = await medianMicrosPerCall(sizes.repetitions, iterationsFor(sizes, probe), hit);
  return { us, fillMs };
}

/**
 * A fixed pseudo-random visiting order of the tenants (a power-of-two length, the same for
 * every count), so no cache sees them in insertion order and every count pays the same to pick one.
 */
function spread(tenants: number): Uint32Array {
  const order = new Uint32Array(65_536);
  let x = 2_463_534_242;
  for (let i = 0; i < order.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    order[i] = (x >>> 0) % Math.max(tenants, 1);
  }
  return order;
}

/** Scenario 2: a cache hit for a per-request tenant among many cached ones. */
export async function cacheHitManyTenants(
  sizes: BenchSizes,
  progress: (line: string) => void = () => {},
): Promise<{ figures: Figure[]; flat: boolean | undefined }> {
  const figures: Figure[] = [];
  const skipReason: Partial<Record<Incumbent, string>> = {};
  const oursByCount = new Map<number, number>();
  const counts = [...sizes.tenantCounts].sort((a, b) => a - b);
  for (const [index, tenants] of counts.entries()) {
    const network = createFakeNetwork();
    const ours = ourClient(network, Math.max(tenants, 1));
    const oursUs = (await timeManyTenants(sizes, tenants, ourHit(ours))).us;
    await ours.dispose();
    oursByCount.set(tenants, oursUs);
    progress(`  ${tenants} tenants: daemon-auth ${oursUs.toFixed(2)} µs/call`);
    const theirs: Partial<Record<Incumbent, number>> = {};
    const notes: string[] = [];
    for (const name of Object.keys(INCUMBENTS) as Incumbent[]) {
      const skipped = skipReason[name];
      if (skipped !== undefined) {
        notes.push(skipped);
        continue;
      }
      const call = name === "msal" ? msalHit(msalClient(network)) : identityHit(identityCredential(network));
      const result = await timeManyTenants(sizes, tenants, call);
      theirs[name] = result.us;
      notes.push(`${INCUMBENTS[name]} cache fill ${(result.fillMs / 1000).toFixed(1)} s`);
      progress(`  ${tenants} tenants: ${INCUMBENTS[name]} ${result.us.toFixed(2)} µs/call`);
      // Each incumbent call scans its cache, so filling grows with the square of the count
      // (projected from 100 tenants up: below that the fixed cost of a call dominates).
      const next = counts[index + 1];
      const projectedMs = next === undefined || tenants < 100 ? 0 : result.fillMs * (next / tenants) ** 2;
      if (projectedMs > sizes.fillBudgetMs) {
        skipReason[name] = `${INCUMBENTS[name]} not run: its cache fill would take ~${Math.round(projectedMs / 1000)} s or more`;
      }
    }
    figures.push({
      scenario: `cache hit, ${tenants.toLocaleString("en-US")} tenants`,
      unit: "µs/call",
      ours: oursUs,
      msal: theirs.msal,
      identity: theirs.identity,
      note: notes.join("; "),
    });
  }
  const smallest = oursByCount.get(counts[0] ?? 1);
  const largest = oursByCount.get(counts.at(-1) ?? 1);
  const flat = smallest === undefined || largest === undefined ? undefined : largest / smallest <= 1.5;
  return { figures, flat };
}

/** Token requests made when `callers` call at once into a cold client built by `start`. */
async function stampede(callers: number, start: (network: FakeNetwork) => { call: HitCall; dispose?: () => Promise<void> }): Promise<number> {
  const network = createFakeNetwork({ latencyMs: 20 });
  const client = start(network);
  await Promise.all(Array.from({ length: callers }, () => client.call(undefined)));
  await client.dispose?.();
  return network.tokenRequests;
}

/** Scenario 3: `concurrentCallers` cold calls for one key at once; the figure is token requests made. */
export async function concurrentColdCalls(sizes: BenchSizes): Promise<Figure> {
  const callers = sizes.concurrentCallers;
  const runs = { ours: [] as number[], msal: [] as number[], identity: [] as number[] };
  for (let r = 0; r < Math.min(sizes.repetitions, 3); r++) {
    runs.ours.push(
      await stampede(callers, (network) => {
        const ours = ourClient(network);
        return { call: ourHit(ours), dispose: () => ours.dispose() };
      }),
    );
    runs.msal.push(await stampede(callers, (network) => ({ call: msalHit(msalClient(network)) })));
    runs.identity.push(await stampede(callers, (network) => ({ call: identityHit(identityCredential(network)) })));
  }
  return {
    scenario: `${callers.toLocaleString("en-US")} concurrent cold calls, one key`,
    unit: "token requests",
    ours: median(runs.ours),
    msal: median(runs.msal),
    identity: median(runs.identity),
  };
}

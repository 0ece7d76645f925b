import type { ClientSecretCredential } from "@azure/identity";
import type { ConfidentialClientApplication } from "@azure/msal-node";
import type { DaemonClient } from "@daemon-auth/core";
import { BENCH_IDS, benchTenant, identityCredential, msalAuthority, msalClient, ourClient } from "./clients.js";
import { createFakeNetwork, type FakeNetwork } from "./fake-network.js";
import { fillAndTime, floorLookup, timeBesideFloor, type BesideFloor } from "./hit-timing.js";
import { collectGarbage, median, medianMicrosPerCall } from "./measure.js";

/** How hard each scenario works; the defaults keep a full run within about eight minutes on 2 loaded cores. */
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
   * Audience counts of the high-cardinality scenario (scopes cached in one tenant); empty skips it.
   * @default [1, 1000, 100000]
   */
  audienceCounts: readonly number[];
  /**
   * Fresh processes per library of the cold-start scenario; 0 skips it.
   * @default 5
   */
  coldStartRuns: number;
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
  audienceCounts: [1, 1_000, 100_000],
  coldStartRuns: 5,
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
  /** What the same work costs without any token library (a bare HTTP loop, a bare `Map`), where there is one. */
  readonly floor?: number;
  /** ours ÷ floor as measured side by side (median of slice pairs), where the floor was timed in slices beside ours. */
  readonly floorRatio?: number;
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

/** Slices of each library and of the floor when they are timed side by side. */
export function floorPairs(sizes: BenchSizes): { pairs: number; iterations: number } {
  return { pairs: sizes.repetitions * 4, iterations: Math.max(50, Math.floor(sizes.hitIterations / 8)) };
}

/**
 * Fills `call`'s cache with every key and keeps each answer in a bare `Map` by the caller's
 * own key, then times the hits beside that map's {@link floorLookup}, in the same order.
 */
export async function oursBesideFloor(sizes: BenchSizes, keys: readonly string[], call: HitCall): Promise<BesideFloor> {
  const answers = new Map<string, unknown>();
  for (const key of keys) answers.set(key, await call(key));
  await settle();
  const { pairs, iterations } = floorPairs(sizes);
  return timeBesideFloor(keys, call, floorLookup(answers), pairs, iterations);
}

/** What the target of a scenario against its floor says of one figure. */
export function floorNote(result: BesideFloor): string {
  return `floor (async bare Map lookup, same keys and order) ${result.floor.toFixed(2)} µs: daemon-auth at ${result.ratio.toFixed(2)}× floor`;
}

/**
 * The incumbents' figures at `count` keys, each skipped once filling its cache for the next
 * count would take longer than `sizes.fillBudgetMs`: each of their calls scans the cache,
 * so filling grows with the square of the count (projected from 100 keys up: below that the
 * fixed cost of a call dominates). `skipReason` carries the skips from one count to the next.
 */
export async function incumbentsAt(
  sizes: BenchSizes,
  keys: readonly string[],
  next: number | undefined,
  calls: Partial<Record<Incumbent, () => HitCall>>,
  skipReason: Partial<Record<Incumbent, string>>,
  progress: (line: string) => void,
): Promise<{ theirs: Partial<Record<Incumbent, number>>; notes: string[] }> {
  const theirs: Partial<Record<Incumbent, number>> = {};
  const notes: string[] = [];
  for (const [name, start] of Object.entries(calls) as [Incumbent, () => HitCall][]) {
    const skipped = skipReason[name];
    if (skipped !== undefined) {
      notes.push(skipped);
      continue;
    }
    const result = await fillAndTime(keys, start(), sizes, settle);
    theirs[name] = result.us;
    notes.push(`${INCUMBENTS[name]} cache fill ${(result.fillMs / 1000).toFixed(1)} s`);
    progress(`  ${keys.length} keys: ${INCUMBENTS[name]} ${result.us.toFixed(2)} µs/call`);
    const projectedMs = next === undefined || keys.length < 100 ? 0 : result.fillMs * (next / keys.length) ** 2;
    if (projectedMs > sizes.fillBudgetMs) {
      skipReason[name] = `${INCUMBENTS[name]} not run: its cache fill would take ~${Math.round(projectedMs / 1000)} s or more`;
    }
  }
  return { theirs, notes };
}

/** Scenario 2: a cache hit for a per-request tenant among many cached ones, beside its floor. */
export async function cacheHitManyTenants(
  sizes: BenchSizes,
  progress: (line: string) => void = () => {},
): Promise<{ figures: Figure[]; flat: boolean | undefined }> {
  const figures: Figure[] = [];
  const skipReason: Partial<Record<Incumbent, string>> = {};
  const counts = [...sizes.tenantCounts].sort((a, b) => a - b);
  for (const [index, tenants] of counts.entries()) {
    const names = Array.from({ length: tenants }, (_, t) => benchTenant(t));
    const network = createFakeNetwork();
    const ours = ourClient(network, Math.max(tenants, 1));
    const measured = await oursBesideFloor(sizes, names, ourHit(ours));
    await ours.dispose();
    progress(`  ${tenants} tenants: daemon-auth ${measured.ours.toFixed(2)} µs/call, ${measured.ratio.toFixed(2)}× floor`);
    const { theirs, notes } = await incumbentsAt(
      sizes,
      names,
      counts[index + 1],
      { msal: () => msalHit(msalClient(network)), identity: () => identityHit(identityCredential(network)) },
      skipReason,
      progress,
    );
    figures.push({
      scenario: `cache hit, ${tenants.toLocaleString("en-US")} tenants`,
      unit: "µs/call",
      ours: measured.ours,
      msal: theirs.msal,
      identity: theirs.identity,
      floor: measured.floor,
      floorRatio: measured.ratio,
      note: [floorNote(measured), ...notes].join("; "),
    });
  }
  const smallest = figures[0]?.ours;
  const largest = figures.at(-1)?.ours;
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

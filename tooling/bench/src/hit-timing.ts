import { median, microsPerCall, medianMicrosPerCall } from "./measure.js";

/** A cache-hit call keyed by one of the caller's own strings (a tenant id, a scope). */
export type KeyedCall = (key: string) => Promise<unknown>;

/**
 * A fixed pseudo-random visiting order of `count` keys (a power-of-two length, the same for
 * every count), so no cache sees them in insertion order and every count pays the same to pick one.
 */
export function spread(count: number): Uint32Array {
  const order = new Uint32Array(65_536);
  let x = 2_463_534_242;
  for (let i = 0; i < order.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    order[i] = (x >>> 0) % Math.max(count, 1);
  }
  return order;
}

/** Calls per timed run: fewer when a call scans the cache, so a slow library still finishes. */
function iterationsFor(hitIterations: number, microsPerCallProbe: number): number {
  const budgetUs = 300_000;
  return Math.max(50, Math.min(hitIterations, Math.floor(budgetUs / Math.max(microsPerCallProbe, 0.001))));
}

/** The call of the `i`th hit: the keys in {@link spread} order. */
function inOrder(keys: readonly string[], call: KeyedCall): (i: number) => Promise<unknown> {
  const order = spread(keys.length);
  return (i) => call(keys[order[i & (order.length - 1)] ?? 0] ?? "");
}

/**
 * Fills a cache through `call` with every key, then times hits in {@link spread} order:
 * µs per hit (median of `repetitions` runs) and the time the fill took.
 */
export async function fillAndTime(
  keys: readonly string[],
  call: KeyedCall,
  sizes: { repetitions: number; hitIterations: number },
  settle: () => Promise<void>,
): Promise<{ us: number; fillMs: number }> {
  const fillStart = performance.now();
  for (const key of keys) await call(key);
  const fillMs = performance.now() - fillStart;
  await settle();
  const hit = inOrder(keys, call);
  // A probe sizes the timed runs: an incumbent may scan its cache on each call.
  const probe = await medianMicrosPerCall(1, 20, hit);
  const us = await medianMicrosPerCall(sizes.repetitions, iterationsFor(sizes.hitIterations, probe), hit);
  return { us, fillMs };
}

/**
 * The physical floor of a hit on `entries`: the cheapest promise-returning lookup, an
 * `async` function over a bare `Map` keyed by the caller's own strings.
 */
export function floorLookup(entries: ReadonlyMap<string, unknown>): KeyedCall {
  return async (key) => entries.get(key);
}

/** Ours and the floor, timed in the same run. */
export interface BesideFloor {
  /** µs per hit, median of the slices. */
  readonly ours: number;
  readonly floor: number;
  /** Median of each slice pair's ours ÷ floor: steadier than a ratio of medians under load. */
  readonly ratio: number;
}

/**
 * Times `ours` and `floor` over the same keys in the same order, in `pairs` alternating
 * slices of `iterations` hits (which of the two goes first alternates too, and each pair
 * starts at another point of the order), so a change in the machine's load or a warm
 * cache line favours neither.
 */
export async function timeBesideFloor(keys: readonly string[], ours: KeyedCall, floor: KeyedCall, pairs: number, iterations: number): Promise<BesideFloor> {
  const order = spread(keys.length);
  let offset = 0;
  const at = (call: KeyedCall) => (i: number) => call(keys[order[(i + offset) & (order.length - 1)] ?? 0] ?? "");
  const oursHit = at(ours);
  const floorHit = at(floor);
  await microsPerCall(iterations, oursHit);
  await microsPerCall(iterations, floorHit);
  const runs = { ours: [] as number[], floor: [] as number[], ratio: [] as number[] };
  for (let pair = 0; pair < pairs; pair++) {
    offset = (pair * 7_919) & (order.length - 1);
    let oursUs: number;
    let floorUs: number;
    if (pair % 2 === 0) {
      oursUs = await microsPerCall(iterations, oursHit);
      floorUs = await microsPerCall(iterations, floorHit);
    } else {
      floorUs = await microsPerCall(iterations, floorHit);
      oursUs = await microsPerCall(iterations, oursHit);
    }
    runs.ours.push(oursUs);
    runs.floor.push(floorUs);
    runs.ratio.push(oursUs / floorUs);
  }
  return { ours: median(runs.ours), floor: median(runs.floor), ratio: median(runs.ratio) };
}

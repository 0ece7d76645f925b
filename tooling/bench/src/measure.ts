/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** The `q` quantile (0…1) of a non-empty list, nearest rank. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** Collects garbage between runs when node runs with `--expose-gc`, so one run's garbage is not billed to the next. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Mean microseconds per call of `call(i)` over `iterations` sequential awaited calls.
 * A batch is timed, not each call: one `hrtime` read costs about as much as a cache hit.
 */
export async function microsPerCall(iterations: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await call(i);
  const elapsed = process.hrtime.bigint() - start;
  return Number(elapsed) / 1000 / iterations;
}

/** Median over `repetitions` of {@link microsPerCall}, after one untimed warm-up batch. */
export async function medianMicrosPerCall(
  repetitions: number,
  iterations: number,
  call: (i: number) => Promise<unknown>,
): Promise<number> {
  await microsPerCall(iterations, call);
  const runs: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    collectGarbage();
    runs.push(await microsPerCall(iterations, call));
  }
  return median(runs);
}

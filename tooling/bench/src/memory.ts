import { benchTenant, msalClient, ourClient } from "./clients.js";
import { BENCH_ACCESS_TOKEN, createFakeNetwork } from "./fake-network.js";
import { median } from "./measure.js";
import { msalHit, ourHit, settle, type HitCall } from "./scenarios.js";
import type { Figure } from "./scenarios.js";

/**
 * Tenants filled and hit once, unmeasured, before a library's figure (as many as the figure's,
 * up to this): its code is compiled by then and not billed to its tokens. 200 left msal-node's
 * figure at 1,000 tenants ~40% high.
 */
const MAX_WARM_UP_TENANTS = 1_000;

/**
 * Bytes of heap that `tenants` cached tokens hold once filled, per token; needs `--expose-gc`
 * to mean anything. Every token is asked for again once after the fill, so whatever a
 * library builds on the first hit (an answer kept for later hits) is counted too.
 */
async function heapPerToken(tenants: number, start: () => { call: HitCall; dispose?: () => Promise<void> }): Promise<number> {
  const warmUp = start();
  const warmUpNames = Array.from({ length: Math.min(tenants, MAX_WARM_UP_TENANTS) }, (_, t) => benchTenant(tenants + t));
  for (const name of [...warmUpNames, ...warmUpNames]) await warmUp.call(name);
  await warmUp.dispose?.();
  const names = Array.from({ length: tenants }, (_, t) => benchTenant(t));
  await settle();
  const before = process.memoryUsage().heapUsed;
  const client = start();
  for (const name of names) await client.call(name);
  for (const name of names) await client.call(name);
  await settle();
  const grown = process.memoryUsage().heapUsed - before;
  await client.dispose?.();
  return grown / tenants;
}

/** The heap a one-byte string of `length` characters takes in V8 on 64 bits: a 16-byte header, rounded up to 8 bytes. */
export function stringHeapBytes(length: number): number {
  return 16 + Math.ceil(length / 8) * 8;
}

/**
 * Scenario 8: heap growth per cached token at `tenants` tenants, beside the token's own
 * bytes. msal-node runs at `incumbentTenants`, since filling its cache grows with the square of the count.
 */
export async function memoryPerToken(tenants: number, incumbentTenants: number): Promise<Figure> {
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === "function";
  const ours = await heapPerToken(tenants, () => {
    const client = ourClient(createFakeNetwork(), tenants);
    return { call: ourHit(client), dispose: () => client.dispose() };
  });
  // At 1,000 tokens, 100 KB of unrelated heap moves the figure by 100 B: the median of three runs.
  const msalRuns: number[] = [];
  for (let run = 0; incumbentTenants > 0 && run < 3; run++) {
    msalRuns.push(await heapPerToken(incumbentTenants, () => ({ call: msalHit(msalClient(createFakeNetwork())) })));
  }
  const msal = msalRuns.length > 0 ? median(msalRuns) : undefined;
  const token = stringHeapBytes(BENCH_ACCESS_TOKEN.length);
  const beyond = (perToken: number | undefined): string => (perToken === undefined ? "—" : (perToken - token).toFixed(0));
  return {
    scenario: `heap growth per cached token, ${tenants.toLocaleString("en-US")} tenants`,
    unit: "bytes/token",
    ours,
    msal,
    identity: undefined,
    note:
      `the access token itself is ${String(BENCH_ACCESS_TOKEN.length)} characters, ${String(token)} bytes of heap; beyond it: daemon-auth ${beyond(ours)} B, ` +
      `msal-node ${beyond(msal)} B; msal-node measured at ${incumbentTenants.toLocaleString("en-US")} tenants (median of 3 runs); every token filled, then hit once` +
      (gcExposed ? "" : "; run with --expose-gc for meaningful figures"),
  };
}

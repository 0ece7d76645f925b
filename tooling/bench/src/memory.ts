import { benchTenant, msalClient, ourClient } from "./clients.js";
import { BENCH_ACCESS_TOKEN, createFakeNetwork } from "./fake-network.js";
import { msalHit, ourHit, settle, type HitCall } from "./scenarios.js";
import type { Figure } from "./scenarios.js";

/** Bytes of heap that `tenants` cached tokens hold once filled, per token; needs `--expose-gc` to mean anything. */
async function heapPerToken(tenants: number, start: () => { call: HitCall; dispose?: () => Promise<void> }): Promise<number> {
  const names = Array.from({ length: tenants }, (_, t) => benchTenant(t));
  await settle();
  const before = process.memoryUsage().heapUsed;
  const client = start();
  for (const name of names) await client.call(name);
  await settle();
  const grown = process.memoryUsage().heapUsed - before;
  await client.dispose?.();
  return grown / tenants;
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
  const msal = incumbentTenants > 0 ? await heapPerToken(incumbentTenants, () => ({ call: msalHit(msalClient(createFakeNetwork())) })) : undefined;
  return {
    scenario: `heap growth per cached token, ${tenants.toLocaleString("en-US")} tenants`,
    unit: "bytes/token",
    ours,
    msal,
    identity: undefined,
    note:
      `the access token itself is ${String(BENCH_ACCESS_TOKEN.length)} bytes; msal-node measured at ${incumbentTenants.toLocaleString("en-US")} tenants` +
      (gcExposed ? "" : "; run with --expose-gc for meaningful figures"),
  };
}

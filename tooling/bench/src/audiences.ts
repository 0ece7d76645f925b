import type { ConfidentialClientApplication } from "@azure/msal-node";
import type { DaemonClient } from "@daemon-auth/core";
import { msalClient, ourClient } from "./clients.js";
import { createFakeNetwork } from "./fake-network.js";
import { floorNote, incumbentsAt, oursBesideFloor, type BenchSizes, type Figure, type HitCall } from "./scenarios.js";

/** The `n`th audience of the scenario: an app-only scope of its own API. */
export function benchAudience(n: number): string {
  return ["api://bench-audience-", String(n), "/.default"].join("");
}

// A broker writes `{ scopes: [audience] }` per call: the one-element array is the caller's,
// and allocating it costs less than looking a pre-built one up among 100,000 (which the floor
// would not pay).
function ourAudienceHit(client: DaemonClient): HitCall {
  return (audience) => client.acquireTokenForClient({ scopes: [audience ?? ""] });
}

function msalAudienceHit(client: ConfidentialClientApplication): HitCall {
  return async (audience) => {
    const result = await client.acquireTokenByClientCredential({ scopes: [audience ?? ""] });
    if (result === null) throw new Error("msal-node returned no token; the fake network is miswired.");
  };
}

/**
 * Scenario 10: high-cardinality audiences in one tenant (a token broker holding a token per
 * downstream API for one client and tenant: AzureAD/microsoft-identity-web#3961 took 33
 * minutes for one acquisition at 164,000). A hit for one of `count` cached audiences,
 * visited in a fixed pseudo-random order, beside its floor; msal-node until filling its
 * cache would take longer than `sizes.fillBudgetMs`.
 */
export async function highCardinalityAudiences(sizes: BenchSizes, progress: (line: string) => void = () => {}): Promise<Figure[]> {
  const figures: Figure[] = [];
  const skipReason = {};
  const counts = [...sizes.audienceCounts].sort((a, b) => a - b);
  for (const [index, count] of counts.entries()) {
    const audiences = Array.from({ length: count }, (_, n) => benchAudience(n));
    const network = createFakeNetwork();
    const ours = ourClient(network, Math.max(count, 1));
    const measured = await oursBesideFloor(sizes, audiences, ourAudienceHit(ours));
    await ours.dispose();
    progress(`  ${count} audiences: daemon-auth ${measured.ours.toFixed(2)} µs/call, ${measured.ratio.toFixed(2)}× floor`);
    const { theirs, notes } = await incumbentsAt(sizes, audiences, counts[index + 1], { msal: () => msalAudienceHit(msalClient(network)) }, skipReason, progress);
    figures.push({
      scenario: `cache hit, ${count.toLocaleString("en-US")} audiences in one tenant`,
      unit: "µs/call",
      ours: measured.ours,
      msal: theirs.msal,
      identity: undefined,
      floor: measured.floor,
      floorRatio: measured.ratio,
      note: [floorNote(measured), ...notes, "@azure/identity caches through msal-node"].join("; "),
    });
  }
  return figures;
}

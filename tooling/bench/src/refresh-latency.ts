import { identityCredential, msalClient, ourClient } from "./clients.js";
import { createFakeNetwork, type FakeNetwork } from "./fake-network.js";
import { percentile } from "./measure.js";
import { identityHit, msalHit, ourHit, type BenchSizes, type Figure, type HitCall } from "./scenarios.js";

/** The token endpoint's answer time in this scenario. */
const ENDPOINT_MS = 200;
/** Tokens say `refresh_in: 1`, so a proactive refresh comes due one second after each token. */
const REFRESH_IN_SECONDS = 1;
/** Long enough to cross the first refresh point and see its effect. */
const WINDOW_MS = 1_800;
const PAUSE_MS = 5;

interface Latencies {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly tokenRequests: number;
}

/** Every caller asks, waits {@link PAUSE_MS}, asks again, for {@link WINDOW_MS}; each call is timed. */
async function callerLatencies(callers: number, start: (network: FakeNetwork) => { call: HitCall; dispose?: () => Promise<void> }): Promise<Latencies> {
  const network = createFakeNetwork({ latencyMs: ENDPOINT_MS, refreshInSeconds: REFRESH_IN_SECONDS });
  const client = start(network);
  try {
    await client.call(undefined);
    const end = performance.now() + WINDOW_MS;
    const micros: number[] = [];
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (performance.now() < end) {
          const before = performance.now();
          await client.call(undefined);
          micros.push((performance.now() - before) * 1000);
          await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        }
      }),
    );
    return { p50: percentile(micros, 0.5), p99: percentile(micros, 0.99), max: percentile(micros, 1), tokenRequests: network.tokenRequests };
  } finally {
    await client.dispose?.();
  }
}

/**
 * Scenario 5: callers' latency while a token's proactive refresh comes due, with a token
 * endpoint that takes 200 ms. Figures: p50 and p99 in µs, the slowest call in ms.
 */
export async function refreshLatency(sizes: BenchSizes): Promise<Figure[]> {
  const callers = sizes.refreshCallers;
  const ours = await callerLatencies(callers, (network) => {
    const client = ourClient(network);
    return { call: ourHit(client), dispose: () => client.dispose() };
  });
  const msal = await callerLatencies(callers, (network) => ({ call: msalHit(msalClient(network)) }));
  const identity = await callerLatencies(callers, (network) => ({ call: identityHit(identityCredential(network)) }));
  const label = `caller latency across a proactive refresh (${String(callers)} callers, endpoint ${String(ENDPOINT_MS)} ms)`;
  const requests = `token requests in the window: daemon-auth ${String(ours.tokenRequests)}, msal-node ${String(msal.tokenRequests)}, identity ${String(identity.tokenRequests)}`;
  return [
    { scenario: `${label}, p50`, unit: "µs/call", ours: ours.p50, msal: msal.p50, identity: identity.p50 },
    { scenario: `${label}, p99`, unit: "µs/call", ours: ours.p99, msal: msal.p99, identity: identity.p99, note: requests },
    { scenario: `${label}, slowest call`, unit: "ms", ours: ours.max / 1000, msal: msal.max / 1000, identity: identity.max / 1000 },
  ];
}

import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";
import { createDaemonClient, type DaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorIdentities } from "@daemon-auth/emulator";
import { createUndiciTransport } from "@daemon-auth/http-undici";
import { startNode } from "@daemon-auth/test-utils";
import { Agent, request } from "undici";
import { median } from "./measure.js";
import { settle, type Figure } from "./scenarios.js";

const ids = demoEmulatorIdentities;
/** Requests kept in flight by the concurrent runs. */
export const IN_FLIGHT = 50;

/** Requests per second from `workers` loops of `call` for `durationMs`, after a short warm-up. */
export async function requestsPerSecond(durationMs: number, workers: number, call: (worker: number) => Promise<unknown>): Promise<number> {
  const loop = async (worker: number, until: number, counted: boolean): Promise<number> => {
    let count = 0;
    while (performance.now() < until) {
      await call(worker);
      if (counted) count += 1;
    }
    return count;
  };
  const warmUpEnd = performance.now() + Math.min(300, durationMs / 5);
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w, warmUpEnd, false)));
  const start = performance.now();
  const counts = await Promise.all(Array.from({ length: workers }, (_, w) => loop(w, start + durationMs, true)));
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
}

/** Rates of one run, sequential and with {@link IN_FLIGHT} requests in flight. */
export interface ThroughputRates {
  readonly floor: readonly [number, number];
  readonly ours: readonly [number, number];
  readonly msal: readonly [number, number];
}

/**
 * The child half: a bare undici loop (the floor), daemon-auth over `@daemon-auth/http-undici`
 * and msal-node with its default HTTP stack, against the emulator at `authority`. Runs in a
 * child so `NODE_EXTRA_CA_CERTS` (read at start-up only) makes msal-node trust the emulator's CA.
 */
export async function measureAgainstEmulator(authority: string, caPath: string, durationMs: number, slices: number): Promise<ThroughputRates> {
  const ca = readFileSync(caPath, "utf8");
  const tokenUrl = `${authority}/oauth2/v2.0/token`;
  // The same form daemon-auth and msal-node send for a client secret.
  const body = new URLSearchParams({
    grant_type: "client_credentials",
    scope: ids.apiScope,
    client_id: ids.daemonClientId,
    client_secret: ids.daemonClientSecret,
  }).toString();
  const agent = new Agent({ connect: { ca } });
  const floorCall = async (): Promise<void> => {
    const response = await request(tokenUrl, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded;charset=utf-8", accept: "application/json" },
      dispatcher: agent,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`The emulator answered ${String(response.statusCode)}: ${text.slice(0, 200)}`);
  };
  const transport = createUndiciTransport({ ca });
  // A forced refresh of one key is shared by concurrent callers, by design: each worker has its own client.
  const ours: DaemonClient[] = Array.from({ length: IN_FLIGHT }, () =>
    createDaemonClient({ authority, clientId: ids.daemonClientId, credential: clientSecret(ids.daemonClientSecret), transport }),
  );
  const msal = new ConfidentialClientApplication({
    auth: { clientId: ids.daemonClientId, clientSecret: ids.daemonClientSecret, authority, knownAuthorities: [new URL(authority).host] },
    system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false } },
  });
  const oursCall = (worker: number) => (ours[worker] as DaemonClient).acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
  const msalCall = () => msal.acquireTokenByClientCredential({ scopes: [ids.apiScope], skipCache: true });
  try {
    // The libraries take turns in short slices, so a change in the machine's load hits each alike.
    const calls = { floor: floorCall, ours: oursCall, msal: msalCall };
    const runs = { floor: [[], []], ours: [[], []], msal: [[], []] } as Record<keyof typeof calls, [number[], number[]]>;
    const sliceMs = durationMs / slices;
    for (let slice = 0; slice < slices; slice++) {
      for (const name of ["floor", "ours", "msal"] as const) {
        runs[name][0].push(await requestsPerSecond(sliceMs, 1, calls[name]));
        runs[name][1].push(await requestsPerSecond(sliceMs, IN_FLIGHT, calls[name]));
      }
    }
    const medians = (name: keyof typeof calls): readonly [number, number] => [median(runs[name][0]), median(runs[name][1])];
    return { floor: medians("floor"), ours: medians("ours"), msal: medians("msal") };
  } finally {
    await Promise.all(ours.map((client) => client.dispose()));
    await transport.dispose();
    await agent.close();
  }
}

/**
 * Scenario 4: token requests per second to the emulator over loopback HTTPS with the cache
 * bypassed, beside the floor. HTTPS, not HTTP, because msal-node refuses an `http:` authority.
 */
export async function emulatorThroughput(durationMs: number, slices: number): Promise<Figure[]> {
  // A full collection now, or V8 collects what earlier scenarios left (100,000 tokens) on a
  // background thread while the two children below share the machine's cores.
  await settle();
  // Beside this module: .ts when run from sources (the smoke test), .js from dist.
  const child = (name: string) => fileURLToPath(new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
  const server = startNode(child("emulator-host-child"), [], { timeoutMs: 120_000 + durationMs * 12 });
  try {
    await server.waitForOutput("\n", 60_000);
    const { authority, caPath } = JSON.parse(server.stdout()) as { authority: string; caPath?: string };
    if (caPath === undefined) throw new Error("The HTTPS emulator gave no CA file; the emulator package changed.");
    const clients = startNode(child("emulator-child"), [authority, caPath, String(durationMs), String(slices)], {
      env: { NODE_EXTRA_CA_CERTS: caPath },
      timeoutMs: 60_000 + durationMs * 12,
    });
    const result = await clients.exited;
    if (result.code !== 0) throw new Error(`The emulator benchmark child exited with ${String(result.code)}: ${result.stderr.slice(-2000)}`);
    const output = result.stdout;
    const rates = JSON.parse(output) as ThroughputRates;
    return (["sequential", `${String(IN_FLIGHT)} in flight`] as const).map((mode, i) => {
      const floor = rates.floor[i] ?? Number.NaN;
      const ours = rates.ours[i] ?? Number.NaN;
      return {
        scenario: `emulator, loopback HTTPS, cache bypassed, ${mode}`,
        unit: "requests/s",
        ours,
        msal: rates.msal[i],
        identity: undefined,
        higherIsBetter: true,
        floor,
        note: `floor (bare undici loop) ${floor.toFixed(0)}/s: daemon-auth at ${(ours / floor).toFixed(2)}× floor; @azure/identity has no cache bypass`,
      };
    });
  } finally {
    server.kill("SIGTERM");
    await server.exited.catch(() => undefined);
  }
}

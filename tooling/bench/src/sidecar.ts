import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { createUndiciTransport } from "@daemon-auth/http-undici";
import { startSidecar } from "@daemon-auth/sidecar";
import { runNodeProcesses, startNode } from "@daemon-auth/test-utils";
import { Agent, request } from "undici";
import { IN_FLIGHT, requestsPerSecond } from "./emulator-throughput.js";
import { median } from "./measure.js";
import type { Figure } from "./scenarios.js";

const ids = demoEmulatorIdentities;
const HEADER = "bench-sidecar-header-0123456789abcdef";
// Beside this module: .ts when run from sources (the smoke test), .js from dist.
const EXTENSION = extname(fileURLToPath(import.meta.url));
const child = (name: string): string => fileURLToPath(new URL(`./${name}${EXTENSION}`, import.meta.url));

/**
 * Scenario 9: the token sidecar. Tokens per second it serves from its cache over loopback
 * HTTP, beside a bare `node:http` server answering a body of the same size (the floor),
 * sequential and with {@link IN_FLIGHT} requests in flight; then the token requests one
 * key costs when `callers` callers ask the sidecar at once, against `callers` processes
 * each running msal-node with its own cache.
 */
export async function sidecarScenarios(durationMs: number, slices: number, callers: number): Promise<Figure[]> {
  // HTTPS: msal-node refuses an http: authority.
  const emulator = await startEmulator({ https: true, config: demoEmulatorConfig() });
  try {
    const figures = durationMs > 0 ? await throughput(emulator, durationMs, slices) : [];
    if (callers > 0) figures.push(await requestsPerKey(emulator, callers));
    return figures;
  } finally {
    await emulator.close();
  }
}

async function throughput(emulator: Emulator, durationMs: number, slices: number): Promise<Figure[]> {
  const servers = startNode(child("sidecar-child"), [emulator.authority(ids.tenantId), caPathOf(emulator), ids.daemonClientId, ids.apiScope], {
    env: { SIDECAR_HEADER: HEADER, TEST_CLIENT_SECRET: ids.daemonClientSecret },
    timeoutMs: 60_000 + durationMs * 6,
  });
  const agent = new Agent({ connections: IN_FLIGHT, pipelining: 1 });
  try {
    await servers.waitForOutput("\n", 60_000);
    const urls = JSON.parse(servers.stdout()) as { sidecar: string; floor: string };
    const path = `/token?scope=${encodeURIComponent(ids.apiScope)}`;
    const call = (base: string) => async (): Promise<void> => {
      const response = await request(`${base}${path}`, { headers: { "x-identity-header": HEADER }, dispatcher: agent });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${base} answered ${String(response.statusCode)}.`);
    };
    const calls = { floor: call(urls.floor), ours: call(urls.sidecar) };
    const runs = { floor: [[], []], ours: [[], []] } as Record<keyof typeof calls, [number[], number[]]>;
    const sliceMs = durationMs / slices;
    // Turns in short slices, so a change in the machine's load hits both alike.
    for (let slice = 0; slice < slices; slice++) {
      for (const name of ["floor", "ours"] as const) {
        runs[name][0].push(await requestsPerSecond(sliceMs, 1, calls[name]));
        runs[name][1].push(await requestsPerSecond(sliceMs, IN_FLIGHT, calls[name]));
      }
    }
    return (["sequential", `${String(IN_FLIGHT)} in flight`] as const).map((mode, i) => {
      const floor = median(runs.floor[i] ?? []);
      const ours = median(runs.ours[i] ?? []);
      return {
        scenario: `sidecar, loopback HTTP, cached token, ${mode}`,
        unit: "tokens/s",
        ours,
        msal: undefined,
        identity: undefined,
        higherIsBetter: true,
        floor,
        note: `floor (bare node:http, same body) ${floor.toFixed(0)}/s: sidecar at ${(ours / floor).toFixed(2)}× floor`,
      };
    });
  } finally {
    servers.kill("SIGTERM");
    await servers.exited.catch(() => undefined);
    await agent.close();
  }
}

async function requestsPerKey(emulator: Emulator, callers: number): Promise<Figure> {
  const caPath = caPathOf(emulator);
  const transport = createUndiciTransport({ ca: emulator.caCertificatePem ?? "" });
  const sidecar = await startSidecar({
    client: { authority: emulator.authority(ids.tenantId), clientId: ids.daemonClientId, credential: clientSecret(ids.daemonClientSecret), transport },
    header: HEADER,
    allowScopes: [ids.apiScope],
  });
  try {
    emulator.resetRequests();
    const resource = encodeURIComponent(ids.apiIdentifierUri);
    await Promise.all(
      Array.from({ length: callers }, async () => {
        const response = await fetch(`${sidecar.url}/msi/token?api-version=2019-08-01&resource=${resource}`, { headers: { "x-identity-header": HEADER } });
        await response.text();
        if (response.status !== 200) throw new Error(`The sidecar answered ${String(response.status)}.`);
      }),
    );
    const ours = emulator.tokenRequestCount();

    emulator.resetRequests();
    const results = await runNodeProcesses(callers, child("msal-child"), [emulator.authority(ids.tenantId), ids.daemonClientId, ids.apiScope], {
      env: { NODE_EXTRA_CA_CERTS: caPath, TEST_CLIENT_SECRET: ids.daemonClientSecret },
      timeoutMs: 90_000,
    });
    const failed = results.find((result) => result.code !== 0 || result.stdout !== "token\n");
    if (failed !== undefined) throw new Error(`An msal-node process failed: ${failed.stderr.slice(-1000)}`);
    return {
      scenario: `${String(callers)} callers of one key: sidecar vs ${String(callers)} msal-node processes, token requests`,
      unit: "token requests",
      ours,
      msal: emulator.tokenRequestCount(),
      identity: undefined,
      note: "sidecar callers ask over loopback HTTP at once; each msal-node process has its own cache",
    };
  } finally {
    await sidecar.close();
    await transport.dispose();
  }
}

function caPathOf(emulator: Emulator): string {
  if (emulator.caCertificatePath === undefined) throw new Error("The HTTPS emulator gave no CA file; the emulator package changed.");
  return emulator.caCertificatePath;
}

// Scenario 10: managed identity against the emulator's IMDS endpoint (plain HTTP on
// loopback, as IMDS is): daemon-auth's createManagedIdentityClient beside @azure/msal-node's
// ManagedIdentityApplication and @azure/identity's ManagedIdentityCredential, unmodified.
// Both incumbents read the IMDS host from process.env (AZURE_POD_IDENTITY_AUTHORITY_HOST),
// so the scenario sets it for its duration.
import { randomUUID } from "node:crypto";
import { ManagedIdentityCredential } from "@azure/identity";
import { LogLevel, ManagedIdentityApplication } from "@azure/msal-node";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { createManagedIdentityClient } from "@daemon-auth/managed-identity";
import { median, medianMicrosPerCall } from "./measure.js";
import { settle, type BenchSizes, type Figure } from "./scenarios.js";

const IMDS_PATH = "/metadata/identity/oauth2/token";
/** Variables that would make a library pick another source than IMDS; unset while the scenario runs. */
const OTHER_SOURCES = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"];
const LIBRARIES = ["ours", "msal", "identity"] as const;
type Library = (typeof LIBRARIES)[number];

/** One library's cold client: a call for `resource`, and how to let it go. */
interface Contender {
  call(resource: string): Promise<unknown>;
  dispose(): Promise<void>;
}

function contender(library: Library, env: Record<string, string>): Contender {
  if (library === "ours") {
    const client = createManagedIdentityClient({ env });
    return { call: (resource) => client.acquireTokenForClient({ scopes: [`${resource}/.default`] }), dispose: () => client.dispose() };
  }
  if (library === "msal") {
    const app = new ManagedIdentityApplication({ system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false } } });
    return { call: (resource) => app.acquireToken({ resource }), dispose: async () => {} };
  }
  const credential = new ManagedIdentityCredential();
  return { call: (resource) => credential.getToken(`${resource}/.default`), dispose: async () => {} };
}

/**
 * A resource per scenario, library and run: msal-node keeps managed identity tokens in a
 * cache shared by every ManagedIdentityApplication of the process (and @azure/identity uses
 * msal-node), so a resource asked for before, even by an earlier scenario, would not be cold.
 */
const resourceFor = (scenario: string, library: Library, run: string): string => `api://bench-mi-${scenario}-${library}-${run}`;

/**
 * msal-node keeps the IMDS endpoint it first detected for the life of the process, so a
 * later run of the scenario in the same process starts its emulator on the same port.
 */
let imdsPort = 0;

/** A figure and the target it is checked against, in the shape runBenchmarks reports. */
export interface ManagedIdentityResult {
  readonly figures: readonly Figure[];
  readonly targets: readonly { readonly target: string; readonly met: boolean; readonly measured: string }[];
}

/**
 * Scenario 10: a cache hit (µs/call, median of `repetitions` runs of `hitIterations` calls)
 * and `managedIdentityCallers` concurrent cold calls (IMDS requests on the wire, median of
 * up to 3 runs), each library against the same emulator.
 */
export async function managedIdentityScenario(sizes: Pick<BenchSizes, "repetitions" | "hitIterations"> & { managedIdentityCallers: number }): Promise<ManagedIdentityResult> {
  const coldRuns = Math.max(1, Math.min(sizes.repetitions, 3));
  const scenario = randomUUID().slice(0, 8);
  const resourceOf = (library: Library, run: string): string => resourceFor(scenario, library, run);
  const config = demoEmulatorConfig();
  const resources = LIBRARIES.flatMap((library) => ["hit", ...Array.from({ length: coldRuns }, (_, run) => String(run))].map((run) => resourceOf(library, run)));
  config.applications.push(
    ...resources.map((uri, index) => ({ clientId: `00000000-0000-4000-9000-${index.toString(16).padStart(12, "0")}`, homeTenant: demoEmulatorIdentities.tenantId, identifierUris: [uri] })),
  );
  const emulator = await startEmulator({ config, port: imdsPort });
  imdsPort = Number(new URL(emulator.url).port);
  const env = emulator.managedIdentityEnvironment("imds");
  const restore = pointProcessAt(env);
  try {
    const requests: Record<Library, number[]> = { ours: [], msal: [], identity: [] };
    for (let run = 0; run < coldRuns; run++) {
      for (const library of LIBRARIES) requests[library].push(await coldCalls(emulator, contender(library, env), resourceOf(library, String(run)), sizes.managedIdentityCallers));
    }
    const hit: Partial<Record<Library, number>> = {};
    for (const library of LIBRARIES) {
      const client = contender(library, env);
      const resource = resourceOf(library, "hit");
      await client.call(resource);
      await settle();
      hit[library] = await medianMicrosPerCall(sizes.repetitions, sizes.hitIterations, () => client.call(resource));
      await client.dispose();
    }
    const cold = { ours: median(requests.ours), msal: median(requests.msal), identity: median(requests.identity) };
    const callers = sizes.managedIdentityCallers.toLocaleString("en-US");
    const ours = hit.ours ?? Number.NaN;
    return {
      figures: [
        { scenario: "managed identity (IMDS), cache hit", unit: "µs/call", ours, msal: hit.msal, identity: hit.identity },
        { scenario: `managed identity (IMDS), ${callers} concurrent cold calls`, unit: "IMDS requests", ...cold, note: "requests on the wire to the emulator's IMDS endpoint" },
      ],
      targets: [
        {
          target: "12. managed identity cache hit faster than both incumbents",
          met: ours < (hit.msal ?? Number.NaN) && ours < (hit.identity ?? Number.NaN),
          measured: `${ours.toFixed(2)} µs vs ${(hit.msal ?? Number.NaN).toFixed(2)} (msal-node), ${(hit.identity ?? Number.NaN).toFixed(2)} (@azure/identity)`,
        },
        { target: `12. one IMDS request for ${callers} concurrent cold calls`, met: cold.ours === 1, measured: `${cold.ours} vs ${cold.msal} (msal-node), ${cold.identity} (@azure/identity)` },
      ],
    };
  } finally {
    restore();
    await emulator.close();
  }
}

/** IMDS requests made when `callers` call at once into a cold client. */
async function coldCalls(emulator: Emulator, client: Contender, resource: string, callers: number): Promise<number> {
  emulator.resetRequests();
  await Promise.all(Array.from({ length: callers }, () => client.call(resource)));
  await client.dispose();
  return emulator.requests.filter((request) => request.path.startsWith(IMDS_PATH)).length;
}

/** Sets `env` in process.env (and unsets other sources' variables) for the incumbents; returns the undo. */
function pointProcessAt(env: Record<string, string>): () => void {
  const names = [...Object.keys(env), ...OTHER_SOURCES];
  const saved = new Map(names.map((name) => [name, process.env[name]]));
  for (const name of OTHER_SOURCES) delete process.env[name];
  Object.assign(process.env, env);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

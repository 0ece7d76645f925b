import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";
import { startNode } from "@daemon-auth/test-utils";
import { median } from "./measure.js";
import type { Figure } from "./scenarios.js";

const ids = demoEmulatorIdentities;
const LIBRARIES = ["ours", "msal", "identity"] as const;
type Library = (typeof LIBRARIES)[number];

/** What one fresh process reported, in milliseconds since it started. */
interface ColdStart {
  /** Node's own start-up, before the child's first line. */
  readonly boot: number;
  /** From the child's first line until the library is imported. */
  readonly imports: number;
  /** From the child's first line until the first token is in hand. */
  readonly firstToken: number;
}

/**
 * Scenario 11: cold start, as a serverless daemon pays it on every cold start: a fresh Node
 * process imports the library (daemon-auth: `@daemon-auth/core` and
 * `@daemon-auth/credential-secret`) and gets its first token from the HTTPS emulator,
 * which runs in this process. `runs` processes per library, the libraries taking turns.
 */
export async function coldStart(runs: number): Promise<Figure[]> {
  const emulator = await startEmulator({ https: true, config: demoEmulatorConfig() });
  try {
    const caPath = emulator.caCertificatePath;
    if (caPath === undefined) throw new Error("The HTTPS emulator gave no CA file; the emulator package changed.");
    // Beside this module: .ts when run from sources (the smoke test), .js from dist.
    const script = fileURLToPath(new URL(`./cold-start-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
    const start = async (library: Library): Promise<ColdStart> => {
      const child = startNode(script, [library, emulator.url, ids.tenantId, ids.daemonClientId, ids.apiScope], {
        env: { NODE_EXTRA_CA_CERTS: caPath, TEST_CLIENT_SECRET: ids.daemonClientSecret },
        timeoutMs: 60_000,
      });
      const result = await child.exited;
      if (result.code !== 0) throw new Error(`The ${library} cold start child exited with ${String(result.code)}: ${result.stderr.slice(-2000)}`);
      return JSON.parse(result.stdout) as ColdStart;
    };
    // One untimed round: the emulator's first token (its code compiled, its key loaded) and
    // the first read of each library's files from disk are billed to no one.
    for (const library of LIBRARIES) await start(library);
    const results: Record<Library, ColdStart[]> = { ours: [], msal: [], identity: [] };
    for (let run = 0; run < runs; run++) {
      // Each library goes first in turn.
      for (let l = 0; l < LIBRARIES.length; l++) {
        const library = LIBRARIES[(run + l) % LIBRARIES.length] ?? "ours";
        results[library].push(await start(library));
      }
    }
    const of = (library: Library, field: keyof ColdStart): number => median(results[library].map((start) => start[field]));
    const boot = median(LIBRARIES.flatMap((library) => results[library].map((start) => start.boot)));
    const figure = (field: "imports" | "firstToken", scenario: string, note: string): Figure => ({
      scenario,
      unit: "ms",
      ours: of("ours", field),
      msal: of("msal", field),
      identity: of("identity", field),
      note,
    });
    return [
      figure("imports", "cold start: import the library", `fresh Node process each run, median of ${String(runs)}; Node's own start-up before that ~${boot.toFixed(0)} ms`),
      figure(
        "firstToken",
        "cold start: import and first token",
        "from the emulator over loopback HTTPS; msal-node fetches the authority's OpenID metadata first, as it does on every cold start",
      ),
    ];
  } finally {
    await emulator.close();
  }
}

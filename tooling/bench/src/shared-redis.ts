import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";
import { startNode, startRedisServer, type NodeProcess } from "@daemon-auth/test-utils";
import type { Figure } from "./scenarios.js";

// Run from dist by `pnpm bench`, from sources (through tsx) by the smoke test.
const SOURCE = extname(fileURLToPath(import.meta.url)) === ".ts";
const STORE_MODULE = fileURLToPath(new URL(`./redis-store${SOURCE ? ".ts" : ".js"}`, import.meta.url));

/** The conformance suite's daemon process, reused as is: it waits for a go file per round and prints where its token came from. */
function conformanceChild(): string {
  const root = dirname(dirname(createRequire(import.meta.url).resolve("@daemon-auth/conformance")));
  return join(root, SOURCE ? "src/shared-store-child.ts" : "dist/shared-store-child.js");
}

/** As in the conformance suite: a short token whose refresh point comes due within the run. */
const TOKEN_LIFETIME_SECONDS = 10;
const REFRESH_IN_SECONDS = 3;

/**
 * Scenario 7: `processes` daemons with cold in-process caches sharing one real Redis; token
 * requests the emulator saw when they start together, and again after they all cross the
 * refresh point. Round 2 counts only the requests made after round 1.
 */
export async function sharedRedis(processes: number): Promise<Figure[]> {
  const emulator = await startEmulator({
    config: demoEmulatorConfig(),
    tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS,
    refreshInSeconds: REFRESH_IN_SECONDS,
  });
  const redis = await startRedisServer();
  const barrier = mkdtempSync(join(tmpdir(), "daemon-auth-bench-barrier-"));
  let children: NodeProcess[] = [];
  try {
    const ids = demoEmulatorIdentities;
    const args = [emulator.authority(ids.tenantId), ids.daemonClientId, ids.apiScope, STORE_MODULE, redis.url, barrier, "2"];
    children = Array.from({ length: processes }, () =>
      startNode(conformanceChild(), args, { env: { TEST_CLIENT_SECRET: ids.daemonClientSecret }, timeoutMs: 90_000, typescript: SOURCE }),
    );
    await Promise.all(children.map((child) => child.waitForOutput("ready", 60_000)));
    const requests: number[] = [];
    for (const round of [1, 2]) {
      if (round === 2) await new Promise((resolve) => setTimeout(resolve, (REFRESH_IN_SECONDS + 1) * 1000));
      writeFileSync(join(barrier, `go${String(round)}`), "");
      await Promise.all(children.map((child) => child.waitForOutput(`{"round":${String(round)},`, 30_000)));
      requests.push(emulator.tokenRequestCount() - (requests[0] ?? 0));
    }
    await Promise.all(children.map((child) => child.exited));
    const none = { msal: undefined, identity: undefined, note: "incumbents: no shared cache with a refresh lock; each process fetches its own" };
    return [
      { scenario: `${String(processes)} processes sharing Redis, cold start: token requests per key`, unit: "token requests", ours: requests[0] ?? Number.NaN, ...none },
      { scenario: `${String(processes)} processes sharing Redis, across a refresh point: token requests per key`, unit: "token requests", ours: requests[1] ?? Number.NaN, ...none },
    ];
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await emulator.close();
    await redis.stop();
    rmSync(barrier, { recursive: true, force: true });
  }
}

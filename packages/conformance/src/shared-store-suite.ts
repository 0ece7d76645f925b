import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";
import { startNode, type NodeProcess } from "@daemon-auth/test-utils";
import { describe, expect, it } from "vitest";

/** A shared backing (a Redis server, a directory) for one test, as the child processes reach it. */
export interface SharedStoreTarget {
  /** Passed to the store module's `createStore(target)` in every child: a URL, a directory… */
  target: string;
  /** Runs after every child has exited: stop servers, remove directories. */
  cleanup?: () => Promise<void>;
}

/** Options of {@link describeSharedStoreAcquisition}. */
export interface SharedStoreAcquisitionOptions {
  /**
   * Absolute path of a module, run in each child process (TypeScript is fine), that exports
   * `createStore(target: string): TokenCacheStore | Promise<TokenCacheStore>`.
   */
  storeModule: string;
  /** Creates the shared backing for one test; every child gets the same `target`. */
  createTarget: () => Promise<SharedStoreTarget>;
  /**
   * How many processes share the store.
   * @default 8
   */
  processes?: number;
}

interface Report {
  round: number;
  source: string;
  token: string;
}

// The child sits beside this module: .ts when run from source, .js from dist.
const CHILD = fileURLToPath(new URL(`./shared-store-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const OUTAGE_CHILD = fileURLToPath(new URL(`./shared-store-outage-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const TOKEN_LIFETIME_SECONDS = 10;
const REFRESH_IN_SECONDS = 3;
/** How long the outage test's token endpoint answers 503 (the scenario). */
const OUTAGE_MS = 10_000;
/** The client's default `retry.maxAttempts`: the requests of one failed acquisition. */
const ATTEMPTS = 3;
/** A key no process holds a token for when the outage starts. */
const COLD_SCOPE = "api://daemon-auth-outage-cold/.default";

/** Token requests per key during the outage, and how the children's acquisitions were answered. */
export interface OutageFigures {
  processes: number;
  /** Requests for the key every process held a valid token for (past refresh_on). */
  held: number;
  /** Requests for the key no process held a token for. */
  cold: number;
  answers: { held: Record<string, number>; cold: Record<string, number> }[];
}

/**
 * Registers tests proving that processes with cold in-process caches sharing one store make
 * one token request per key: once when they all start together, and once more when they all
 * cross the server's refresh_in boundary together.
 */
export function describeSharedStoreAcquisition(name: string, options: SharedStoreAcquisitionOptions): void {
  const processes = options.processes ?? 8;

  async function run(rounds: number, between: () => Promise<void>): Promise<{ reports: Report[][]; requests: number[] }> {
    const emulator = await startEmulator({
      config: demoEmulatorConfig(),
      tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS,
      refreshInSeconds: REFRESH_IN_SECONDS,
    });
    const shared = await options.createTarget();
    const barrier = mkdtempSync(join(tmpdir(), "daemon-auth-barrier-"));
    let children: NodeProcess[] = [];
    try {
      const ids = demoEmulatorIdentities;
      const args = [emulator.authority(ids.tenantId), ids.daemonClientId, ids.apiScope, options.storeModule, shared.target, barrier, String(rounds)];
      children = Array.from({ length: processes }, () =>
        // tsx even for a built child: the store module is usually a test's .ts file.
        startNode(CHILD, args, { env: { TEST_CLIENT_SECRET: ids.daemonClientSecret }, timeoutMs: 60_000, typescript: true }),
      );
      // Every process has loaded before any acquires, so they really race.
      await Promise.all(children.map((child) => child.waitForOutput("ready", 60_000)));
      const requests: number[] = [];
      for (let round = 1; round <= rounds; round += 1) {
        if (round > 1) await between();
        writeFileSync(join(barrier, `go${String(round)}`), "");
        await Promise.all(children.map((child) => child.waitForOutput(`{"round":${String(round)},`, 30_000)));
        requests.push(emulator.tokenRequestCount());
      }
      const results = await Promise.all(children.map((child) => child.exited));
      const reports = results.map((result) => {
        expect(result.code, result.stderr).toBe(0);
        return result.stdout
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as Report);
      });
      return { reports, requests };
    } finally {
      for (const child of children) child.kill("SIGKILL");
      await emulator.close();
      await shared.cleanup?.();
      rmSync(barrier, { recursive: true, force: true });
    }
  }

  /** `count` processes, each holding a valid token, through a 503 outage of {@link OUTAGE_MS}. */
  async function outage(count: number): Promise<OutageFigures> {
    // Refresh due one second after issue, expiry an hour away: the held token stays valid all along.
    const emulator = await startEmulator({ config: demoEmulatorConfig(), tokenLifetimeSeconds: 3600, refreshInSeconds: 1 });
    const shared = await options.createTarget();
    const barrier = mkdtempSync(join(tmpdir(), "daemon-auth-barrier-"));
    let children: NodeProcess[] = [];
    try {
      const ids = demoEmulatorIdentities;
      const args = [emulator.authority(ids.tenantId), ids.daemonClientId, ids.apiScope, COLD_SCOPE, options.storeModule, shared.target, barrier, String(OUTAGE_MS)];
      children = Array.from({ length: count }, () =>
        startNode(OUTAGE_CHILD, args, { env: { TEST_CLIENT_SECRET: ids.daemonClientSecret }, timeoutMs: 90_000, typescript: true }),
      );
      await Promise.all(children.map((child) => child.waitForOutput("ready", 60_000)));
      emulator.resetRequests();
      emulator.faults.add({ fault: { kind: "status", status: 503 } });
      // Past refresh_on: every acquisition of the held key starts (or joins) a refresh.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      writeFileSync(join(barrier, "go"), "");
      const results = await Promise.all(children.map((child) => child.exited));
      const answers = results.map((result) => {
        expect(result.code, result.stderr).toBe(0);
        return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "") as OutageFigures["answers"][number];
      });
      return {
        processes: count,
        held: emulator.tokenRequestCount({ scope: ids.apiScope }),
        cold: emulator.tokenRequestCount({ scope: COLD_SCOPE }),
        answers,
      };
    } finally {
      for (const child of children) child.kill("SIGKILL");
      await emulator.close();
      await shared.cleanup?.();
      rmSync(barrier, { recursive: true, force: true });
    }
  }

  describe(`${name}: ${String(processes)} processes sharing one store`, () => {
    it("make one token request when they all start cold", { timeout: 90_000 }, async () => {
      const { reports, requests } = await run(1, () => Promise.resolve());
      const first = reports.map((rounds) => rounds[0]);
      expect(requests).toEqual([1]);
      expect(new Set(first.map((report) => report?.token)).size).toBe(1);
      expect(first.filter((report) => report?.source === "network")).toHaveLength(1);
      expect(first.filter((report) => report?.source === "shared-cache")).toHaveLength(processes - 1);
    });

    it("make exactly one more token request when they all cross the refresh boundary", { timeout: 90_000 }, async () => {
      // Past refresh_in but well before the token stops being usable.
      const { reports, requests } = await run(2, () => new Promise((resolve) => setTimeout(resolve, (REFRESH_IN_SECONDS + 1) * 1000)));
      expect(requests).toEqual([1, 2]);
      for (const round of [0, 1]) {
        expect(new Set(reports.map((rounds) => rounds[round]?.token)).size).toBe(1);
      }
      // The cached token was served while the refresh happened behind it.
      expect(reports.every((rounds) => rounds[1]?.source !== "network")).toBe(true);
      expect(reports[0]?.[1]?.token).not.toBe(reports[0]?.[0]?.token);
    });

    it(
      `make about as many token requests per key as one process during a ${String(OUTAGE_MS / 1000)} s token-endpoint outage`,
      { timeout: 180_000 },
      async () => {
        const one = await outage(1);
        const fleet = await outage(processes);
        console.log(`${name}: token requests per key during a ${String(OUTAGE_MS / 1000)} s outage (1 process vs ${String(processes)}): ` +
          `held key ${String(one.held)} vs ${String(fleet.held)}, cold key ${String(one.cold)} vs ${String(fleet.cold)}`);
        for (const figures of [one, fleet]) {
          // The valid token is served all through the outage, by every process.
          expect(figures.answers.every((answers) => Object.keys(answers.held).join() === "cache")).toBe(true);
          // Without a token: the endpoint's error, or fast the fleet's backoff, always typed.
          expect(figures.answers.every((answers) => Object.keys(answers.cold).every((code) => code === "ERR_SERVER" || code === "ERR_THROTTLED"))).toBe(true);
          expect(figures.held).toBeGreaterThanOrEqual(ATTEMPTS);
          expect(figures.cold).toBeGreaterThanOrEqual(ATTEMPTS);
        }
        // The processes back off together on the marker the failing one wrote, so the fleet
        // makes one process's requests; at most one more failed acquisition (its attempts)
        // per key at each end of the window, where the processes' clocks see the backoff
        // end at slightly different moments.
        expect(fleet.held).toBeLessThanOrEqual(one.held + 2 * ATTEMPTS);
        expect(fleet.cold).toBeLessThanOrEqual(one.cold + 2 * ATTEMPTS);
      },
    );
  });
}

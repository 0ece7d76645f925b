// `pnpm test:soak`: 8 worker processes share one real redis-server and one emulator that
// issues short-lived tokens, acquire continuously across several token lifetimes while
// faults are injected, and the run is judged on what they saw. Exits 1 on any failure.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";
import { startNode, startRedisSentinel, type NodeProcess } from "@daemon-auth/test-utils";
import { FAULT_SCHEDULE, runFaultSchedule } from "./fault-schedule.js";
import type { Timeline, WorkerArguments, WorkerReport } from "./protocol.js";
import { countTokenRequests, formatVerdict, judge, table } from "./report.js";
import { SOAK, soakEmulatorConfig, soakKeys } from "./scenario.js";

const LIMITS = { minLifetimes: 5, maxHeapGrowth: 0.2 };
// The worker sits beside this module: .ts when run from source, .js from dist.
const WORKER = fileURLToPath(new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

const began = Date.now();
const log = (line: string) => console.log(`[soak ${String(Math.round((Date.now() - began) / 1000)).padStart(3)} s] ${line}`);

// Down-after longer than the 5 s freeze and the 2 s kill-and-restart of the schedule, so
// only the step that kills the master for good makes the sentinel fail over.
const sentinel = await startRedisSentinel({ downAfterMs: 8_000, failoverTimeoutMs: 10_000 });
const redis = sentinel.master;
const emulator = await startEmulator({ config: soakEmulatorConfig(), tokenLifetimeSeconds: SOAK.tokenLifetimeSeconds });
const directory = mkdtempSync(join(tmpdir(), "daemon-auth-soak-"));
const lifetimeMs = SOAK.tokenLifetimeSeconds * 1000;
let children: NodeProcess[] = [];
try {
  const args: WorkerArguments = {
    emulatorUrl: emulator.url,
    sentinel: { sentinels: [...sentinel.sentinels], name: sentinel.name },
    keyPrefix: "daemon-auth-soak:",
    goFile: join(directory, "go"),
  };
  log(
    `${SOAK.workers} workers, ${soakKeys().length} keys, tokens of ${SOAK.tokenLifetimeSeconds} s (expiry margin ${SOAK.expiryMarginMs / 1000} s), ` +
      `${SOAK.durationMs / 1000} s of acquisitions, redis master ${redis.url} with a replica and a sentinel, emulator ${emulator.url}`,
  );
  children = Array.from({ length: SOAK.workers }, (_, index) =>
    startNode(WORKER, [String(index), JSON.stringify(args)], {
      env: { SOAK_CLIENT_SECRET: demoEmulatorIdentities.daemonClientSecret },
      execArgv: ["--expose-gc"],
      timeoutMs: SOAK.durationMs + 120_000,
    }),
  );
  await Promise.all(children.map((child) => child.waitForOutput("ready", 60_000)));
  const startAt = Date.now() + 500;
  const timeline: Timeline = { startAt, warmupAt: startAt + SOAK.warmupMs, endAt: startAt + SOAK.durationMs };
  // Written whole, then renamed: a worker never reads half a go file.
  writeFileSync(`${args.goFile}.tmp`, JSON.stringify(timeline));
  renameSync(`${args.goFile}.tmp`, args.goFile);
  log("workers loaded; go");

  const ticker = setInterval(() => log(`${emulator.tokenRequestCount()} token requests so far`), 10_000);
  const events = await runFaultSchedule(FAULT_SCHEDULE, { emulator, redis, sentinel }, startAt, log).finally(() => clearInterval(ticker));
  const results = await Promise.all(children.map((child) => child.exited));
  clearInterval(ticker);
  log("workers done");

  const exitFailures: string[] = [];
  const reports: WorkerReport[] = [];
  for (const [index, result] of results.entries()) {
    const last = result.stdout.trim().split("\n").at(-1) ?? "";
    if (result.code !== 0 || !last.startsWith("{")) {
      exitFailures.push(`worker ${index} exited with ${String(result.code ?? result.signal)}: ${result.stderr.trim().slice(-2000)}`);
      continue;
    }
    reports.push(JSON.parse(last) as WorkerReport);
  }
  const requests = countTokenRequests(emulator.requests, soakKeys(), { startAt, endAt: timeline.endAt, lifetimeMs });
  const verdict = judge(reports, requests, SOAK.durationMs / lifetimeMs, LIMITS);
  verdict.failures.unshift(...exitFailures);

  console.log("");
  console.log(`Faults injected:\n\n${table(["at", "fault", "requests hit"], events.map((event) => [`+${event.at / 1000} s`, event.name, event.hits ?? "—"]))}`);
  console.log("");
  console.log(formatVerdict(verdict));
  console.log(`\nSoak ran ${Math.round((Date.now() - began) / 1000)} s in all.`);
  process.exitCode = verdict.failures.length === 0 ? 0 : 1;
} finally {
  for (const child of children) child.kill("SIGKILL");
  await emulator.close();
  await sentinel.stop();
  rmSync(directory, { recursive: true, force: true });
}

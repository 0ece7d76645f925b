import os from "node:os";
import { highCardinalityAudiences } from "./audiences.js";
import { certificateRoundRobin } from "./certificate.js";
import { coldStart } from "./cold-start.js";
import { emulatorThroughput } from "./emulator-throughput.js";
import { BENCH_ACCESS_TOKEN } from "./fake-network.js";
import { managedIdentityScenario } from "./managed-identity.js";
import { memoryPerToken, stringHeapBytes } from "./memory.js";
import { refreshLatency } from "./refresh-latency.js";
import {
  cacheHitManyTenants,
  cacheHitOneTenant,
  concurrentColdCalls,
  DEFAULT_SIZES,
  INCUMBENTS,
  type BenchSizes,
  type Figure,
  type Incumbent,
} from "./scenarios.js";
import { sharedRedis } from "./shared-redis.js";
import { sidecarScenarios } from "./sidecar.js";
import { cacheHitWithTelemetry } from "./telemetry-hit.js";

/** What one run measured, as written to `bench-results.json`. */
export interface BenchReport {
  readonly date: string;
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly availableParallelism: number;
  /** The 1-minute load average when the run ended: other work on the machine skews timings. */
  readonly loadAverage: number;
  readonly sizes: BenchSizes;
  readonly figures: readonly Figure[];
  /** Whether ours stays flat from the fewest to the most cached tenants (within 1.5×). */
  readonly flatAcrossTenants: boolean | undefined;
  readonly targets: readonly TargetCheck[];
}

/** A stated target and whether this run met it. */
export interface TargetCheck {
  readonly target: string;
  readonly met: boolean;
  /** The figures the verdict rests on. */
  readonly measured: string;
}

const fixed = (value: number | undefined, digits = 2): string => (value === undefined ? "—" : value.toFixed(digits));

/** Runs every scenario for daemon-auth and the incumbents, one after the other. */
export async function runBenchmarks(sizes: Partial<BenchSizes> = {}, progress: (line: string) => void = () => {}): Promise<BenchReport> {
  const resolved: BenchSizes = { ...DEFAULT_SIZES, ...sizes };
  const figures: Figure[] = [];
  const targets: TargetCheck[] = [];

  progress("scenario 1: cache hit, one tenant");
  const oneTenant = await cacheHitOneTenant(resolved);
  figures.push(oneTenant);
  targets.push({ target: "1. cache hit, one tenant ≤ 3 µs", met: oneTenant.ours <= 3, measured: `${fixed(oneTenant.ours)} µs` });
  progress("scenario 1 with telemetry on (@daemon-auth/opentelemetry)");
  const withTelemetry = await cacheHitWithTelemetry(resolved);
  figures.push(...withTelemetry);
  for (const figure of withTelemetry) {
    const how = figure.scenario.slice(figure.scenario.indexOf("telemetry on"));
    targets.push({ target: `1. cache hit, one tenant, ${how} ≤ 3 µs`, met: figure.ours <= 3, measured: `${fixed(figure.ours)} µs` });
  }

  progress("scenario 2: cache hit, many tenants, beside the floor");
  const many = await cacheHitManyTenants(resolved, progress);
  figures.push(...many.figures);
  targets.push(floorTarget("2.", "tenants", many.figures));

  progress("scenario 3: concurrent cold calls");
  const stampede = await concurrentColdCalls(resolved);
  figures.push(stampede);
  targets.push({ target: "3. one token request for concurrent cold calls", met: stampede.ours === 1, measured: `${String(stampede.ours)} request(s)` });

  if (resolved.emulatorDurationMs > 0) {
    progress("scenario 4: token requests to the HTTPS emulator, with the floor");
    const rates = await emulatorThroughput(resolved.emulatorDurationMs, Math.max(1, resolved.repetitions));
    figures.push(...rates);
    for (const rate of rates) {
      const ofFloor = rate.ours / (rate.floor ?? Number.NaN);
      const ofMsal = rate.ours / (rate.msal ?? Number.NaN);
      const mode = rate.scenario.split(", ").at(-1) ?? "";
      targets.push({ target: `4. ${mode}: ≥ 0.85× the bare undici floor`, met: ofFloor >= 0.85, measured: `${fixed(ofFloor)}× floor` });
      targets.push({ target: `4. ${mode}: ≥ 2× msal-node`, met: ofMsal >= 2, measured: `${fixed(ofMsal)}× msal-node` });
    }
  }

  if (resolved.refreshCallers > 0) {
    progress("scenario 5: caller latency across a proactive refresh (200 ms endpoint)");
    const latency = await refreshLatency(resolved);
    figures.push(...latency);
    const p99 = latency[1]?.ours ?? Number.NaN;
    const slowest = latency[2]?.ours ?? Number.NaN;
    targets.push({
      target: "5. no caller waits for the refresh: p99 < 1 ms and slowest call < 100 ms (the endpoint takes 200 ms)",
      met: p99 < 1_000 && slowest < 100,
      measured: `p99 ${fixed(p99, 1)} µs, slowest ${fixed(slowest, 1)} ms`,
    });
  }

  if (resolved.certificateTenants > 0) {
    progress(`scenario 6: certificate credential, round-robin over ${String(resolved.certificateTenants)} tenants`);
    const certificate = await certificateRoundRobin(resolved);
    figures.push(...certificate);
    const perHit = certificate[0]?.ours ?? Number.NaN;
    const signed = certificate[1]?.ours ?? Number.NaN;
    const secretHit = many.figures.find((figure) => figure.scenario === `cache hit, ${resolved.certificateTenants.toLocaleString("en-US")} tenants`);
    targets.push({ target: "6. no assertion signed on a cache hit", met: signed === 0, measured: `${fixed(signed)} per 1,000 hits` });
    if (secretHit !== undefined) {
      targets.push({
        target: "6. certificate per-hit cost the same as scenario 2 (within 1.5×)",
        met: perHit <= secretHit.ours * 1.5,
        measured: `${fixed(perHit)} µs vs ${fixed(secretHit.ours)} µs`,
      });
    }
  }

  if (resolved.sharedProcesses > 0) {
    progress(`scenario 7: ${String(resolved.sharedProcesses)} processes sharing Redis`);
    const shared = await sharedRedis(resolved.sharedProcesses);
    figures.push(...shared);
    targets.push({
      target: "7. one token request per key, cold and across a refresh point",
      met: shared.every((figure) => figure.ours === 1),
      measured: shared.map((figure) => String(figure.ours)).join(" and "),
    });
  }

  if (resolved.memoryTenants > 0) {
    progress(`scenario 8: heap per cached token at ${String(resolved.memoryTenants)} tenants`);
    const memory = await memoryPerToken(resolved.memoryTenants, Math.min(resolved.memoryTenants, 1_000));
    figures.push(memory);
    const token = stringHeapBytes(BENCH_ACCESS_TOKEN.length);
    const beyond = memory.ours - token;
    const msalBeyond = (memory.msal ?? Number.NaN) - token;
    targets.push({
      target: "8. heap per cached token beyond the token's own bytes below msal-node's",
      met: beyond < msalBeyond,
      measured: `${fixed(beyond, 0)} B vs msal-node ${fixed(msalBeyond, 0)} B beyond the token's ${String(token)} B`,
    });
  }

  if (resolved.sidecarDurationMs > 0 || resolved.sidecarCallers > 0) {
    progress("scenario 9: token sidecar, tokens/s beside a bare node:http floor, and token requests per key");
    const sidecar = await sidecarScenarios(resolved.sidecarDurationMs, Math.max(1, resolved.repetitions), resolved.sidecarCallers);
    figures.push(...sidecar);
    for (const figure of sidecar) {
      if (figure.floor !== undefined) {
        const ofFloor = figure.ours / figure.floor;
        targets.push({ target: `9. sidecar ${figure.scenario.split(", ").at(-1) ?? ""}: ≥ 0.8× the bare node:http floor`, met: ofFloor >= 0.8, measured: `${fixed(ofFloor)}× floor` });
      } else {
        targets.push({
          target: "9. one token request per key for every caller of the sidecar",
          met: figure.ours === 1,
          measured: `${String(figure.ours)} request(s); msal-node processes: ${String(figure.msal)}`,
        });
      }
    }
  }

  if (resolved.audienceCounts.length > 0) {
    progress("scenario 10: cache hit among many audiences in one tenant, beside the floor");
    const audiences = await highCardinalityAudiences(resolved, progress);
    figures.push(...audiences);
    targets.push(floorTarget("10.", "audiences in one tenant", audiences));
  }

  if (resolved.coldStartRuns > 0) {
    progress(`scenario 11: cold start, ${String(resolved.coldStartRuns)} fresh processes per library`);
    const starts = await coldStart(resolved.coldStartRuns);
    figures.push(...starts);
    const first = starts.at(-1);
    if (first !== undefined) {
      targets.push({
        target: "11. cold start (import and first token) no slower than msal-node and @azure/identity",
        met: first.ours <= (first.msal ?? Number.NaN) && first.ours <= (first.identity ?? Number.NaN),
        measured: `${fixed(first.ours, 0)} ms vs ${fixed(first.msal, 0)} ms and ${fixed(first.identity, 0)} ms`,
      });
    }
  }

  if (resolved.managedIdentityCallers > 0) {
    progress("scenario 12: managed identity (the emulator's IMDS), cache hit and concurrent cold calls");
    const managedIdentity = await managedIdentityScenario(resolved);
    figures.push(...managedIdentity.figures);
    targets.push(...managedIdentity.targets);
  }

  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: os.cpus()[0]?.model ?? "unknown",
    availableParallelism: os.availableParallelism(),
    loadAverage: os.loadavg()[0] ?? 0,
    sizes: resolved,
    figures,
    flatAcrossTenants: many.flat,
    targets,
  };
}

/**
 * The target of a hit among many keys: at the most keys, ≤ 1.5× its floor measured beside it;
 * with how much ours and the floor each grew from the fewest keys.
 */
function floorTarget(label: string, what: string, curve: readonly Figure[]): TargetCheck {
  const fewest = curve[0];
  const most = curve.at(-1);
  const ratioAtMost = most?.floorRatio ?? Number.NaN;
  const growth = (of: (figure: Figure) => number | undefined): string =>
    fixed(most !== undefined && fewest !== undefined ? (of(most) ?? Number.NaN) / (of(fewest) ?? Number.NaN) : undefined, 1);
  return {
    target: `${label} ${most?.scenario ?? "?"}: ≤ 1.5× its floor (an async bare Map lookup over the same keys, in the same run)`,
    met: ratioAtMost <= 1.5,
    measured:
      `${fixed(most?.ours)} µs vs floor ${fixed(most?.floor)} µs, ${fixed(ratioAtMost)}× floor; from ${fewest?.scenario.replace("cache hit, ", "") ?? "?"} ` +
      `to the most ${what}, daemon-auth grew ${growth((figure) => figure.ours)}× and the floor ${growth((figure) => figure.floor)}×`,
  };
}

function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "—";
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
}

/** The ratio ours ÷ an incumbent's figure, or a dash when either is missing. */
export function ratio(figure: Figure, incumbent: Incumbent = "msal"): string {
  const theirs = figure[incumbent];
  if (theirs === undefined || theirs === 0 || Number.isNaN(theirs)) return "—";
  return `${(figure.ours / theirs).toPrecision(2)}×`;
}

/** A Markdown table of a report, with the machine line above it and the targets below. */
export function formatReport(report: BenchReport): string {
  const names = Object.keys(INCUMBENTS) as Incumbent[];
  const lines = [
    `Node ${report.node}, ${report.platform}, availableParallelism ${String(report.availableParallelism)}, ${report.cpu}, ` +
      `load average ${report.loadAverage.toFixed(1)} at the end of the run.`,
    `Medians of ${String(report.sizes.repetitions)} runs; ratio = daemon-auth ÷ incumbent (below 1 favours daemon-auth, except for rates marked higher-is-better).`,
    "",
    `| Scenario | Unit | daemon-auth | ${names.map((name) => `${INCUMBENTS[name]} | ÷`).join(" | ")} | Note |`,
    `| --- | --- | ---: | ${names.map(() => "---: | ---:").join(" | ")} | --- |`,
  ];
  for (const figure of report.figures) {
    const columns = names.map((name) => `${formatNumber(figure[name])} | ${ratio(figure, name)}`).join(" | ");
    const note = [figure.higherIsBetter === true ? "higher is better" : "", figure.note ?? ""].filter(Boolean).join("; ");
    lines.push(`| ${figure.scenario} | ${figure.unit} | ${formatNumber(figure.ours)} | ${columns} | ${note} |`);
  }
  lines.push("");
  for (const check of report.targets) lines.push(`- ${check.met ? "PASS" : "**MISSED**"}: ${check.target} (${check.measured})`);
  return lines.join("\n");
}

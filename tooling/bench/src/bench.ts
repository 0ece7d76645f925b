import os from "node:os";
import { emulatorThroughput } from "./emulator-throughput.js";
import { cacheHitManyTenants, cacheHitOneTenant, concurrentColdCalls, DEFAULT_SIZES, type BenchSizes, type Figure } from "./scenarios.js";

/** What one run measured, as written to `bench-results.json`. */
export interface BenchReport {
  readonly date: string;
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly availableParallelism: number;
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
}

/** Runs every in-process scenario for daemon-auth and msal-node, one after the other. */
export async function runBenchmarks(sizes: Partial<BenchSizes> = {}, progress: (line: string) => void = () => {}): Promise<BenchReport> {
  const resolved: BenchSizes = { ...DEFAULT_SIZES, ...sizes };
  const figures: Figure[] = [];
  progress("scenario 1: cache hit, one tenant");
  const oneTenant = await cacheHitOneTenant(resolved);
  figures.push(oneTenant);
  progress("scenario 2: cache hit, many tenants");
  const many = await cacheHitManyTenants(resolved, progress);
  figures.push(...many.figures);
  progress("scenario 3: concurrent cold calls");
  const stampede = await concurrentColdCalls(resolved);
  figures.push(stampede);
  if (resolved.emulatorDurationMs > 0) {
    progress("scenario 4: token requests to the emulator");
    figures.push(await emulatorThroughput(resolved.emulatorDurationMs));
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: os.cpus()[0]?.model ?? "unknown",
    availableParallelism: os.availableParallelism(),
    sizes: resolved,
    figures,
    flatAcrossTenants: many.flat,
    targets: [
      { target: "cache hit, one tenant ≤ 3 µs", met: oneTenant.ours <= 3 },
      { target: "many tenants flat (most/fewest ≤ 1.5×)", met: many.flat === true },
      { target: "one token request for concurrent cold calls", met: stampede.ours === 1 },
    ],
  };
}

function formatNumber(value: number | undefined): string {
  if (value === undefined) return "—";
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
}

/** The ratio ours ÷ theirs, or a dash when either is missing. */
export function ratio(figure: Figure): string {
  if (figure.msal === undefined || figure.msal === 0) return "—";
  return `${(figure.ours / figure.msal).toPrecision(2)}×`;
}

/** A Markdown table of a report, with the machine line above it. */
export function formatReport(report: BenchReport): string {
  const lines = [
    `Node ${report.node}, ${report.platform}, availableParallelism ${report.availableParallelism}, ${report.cpu}`,
    `Medians of ${report.sizes.repetitions} runs; ratio = daemon-auth ÷ msal-node (lower is better for daemon-auth).`,
    "",
    "| Scenario | Unit | daemon-auth | @azure/msal-node | Ratio | Note |",
    "| --- | --- | ---: | ---: | ---: | --- |",
  ];
  for (const figure of report.figures) {
    lines.push(`| ${figure.scenario} | ${figure.unit} | ${formatNumber(figure.ours)} | ${formatNumber(figure.msal)} | ${ratio(figure)} | ${figure.note ?? ""} |`);
  }
  lines.push("");
  lines.push(`daemon-auth flat across tenant counts: ${report.flatAcrossTenants === true ? "yes" : "no"}`);
  for (const check of report.targets) lines.push(`target ${check.met ? "met   " : "MISSED"}: ${check.target}`);
  return lines.join("\n");
}

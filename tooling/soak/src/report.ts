// Turns the workers' reports and the emulator's request log into the soak's verdict and
// the tables it prints. Pure functions, so the checks themselves are unit-tested.
import type { KeyReport, WorkerReport } from "./protocol.js";
import type { SoakKey } from "./scenario.js";

/** A token request as the emulator recorded it (the fields the soak reads). */
export interface TokenRequestRecord {
  method: string;
  path: string;
  tenant?: string;
  scope?: string;
  status: number;
  fault?: string;
  at: number;
}

/** Token requests of one key over the run. */
export interface KeyRequests {
  key: string;
  /** Every token request of the key, faulted ones included. */
  requests: number;
  /** Those the emulator answered with an injected fault. */
  faulted: number;
  /** Token requests per token lifetime, on average over the run. */
  perLifetime: number;
  /** Token requests in each lifetime window from the start, in order. */
  perWindow: number[];
}

/** Heap of one worker: after warm-up and at the end. */
export interface HeapGrowth {
  worker: number;
  afterWarmup: number;
  atEnd: number;
  /** (atEnd − afterWarmup) ÷ afterWarmup. */
  growth: number;
  /** One sample per token lifetime after warm-up. */
  samples: number[];
}

/** Limits the soak must stay within. */
export interface SoakLimits {
  /** Token lifetimes the run must span. */
  minLifetimes: number;
  /** Largest allowed heap growth of a worker from warm-up to the end, as a fraction. */
  maxHeapGrowth: number;
}

/** The soak's findings. `failures` is empty when the soak passed. */
export interface SoakVerdict {
  keys: KeyReport[];
  requests: KeyRequests[];
  heap: HeapGrowth[];
  lifetimes: number;
  failures: string[];
}

/** Adds the reports of every worker for each key. */
export function mergeKeyReports(workers: readonly WorkerReport[]): KeyReport[] {
  const merged = new Map<string, KeyReport>();
  for (const report of workers.flatMap((worker) => worker.keys)) {
    const into = merged.get(report.key);
    if (into === undefined) {
      merged.set(report.key, { ...report, errors: { ...report.errors }, sources: { ...report.sources }, wrongTokenReasons: [...report.wrongTokenReasons] });
      continue;
    }
    into.ok += report.ok;
    into.failedWhileValid += report.failedWhileValid;
    into.failedWithoutValid += report.failedWithoutValid;
    into.tokens += report.tokens;
    into.wrongTokens += report.wrongTokens;
    into.wrongTokenReasons.push(...report.wrongTokenReasons);
    into.slowestMs = Math.max(into.slowestMs, report.slowestMs);
    for (const [code, count] of Object.entries(report.errors)) into.errors[code] = (into.errors[code] ?? 0) + count;
    for (const [source, count] of Object.entries(report.sources)) into.sources[source] = (into.sources[source] ?? 0) + count;
  }
  return [...merged.values()];
}

/** Token requests per key, overall and per lifetime window from `startAt`. */
export function countTokenRequests(
  records: readonly TokenRequestRecord[],
  keys: readonly SoakKey[],
  window: { startAt: number; endAt: number; lifetimeMs: number },
): KeyRequests[] {
  const lifetimes = (window.endAt - window.startAt) / window.lifetimeMs;
  const windows = Math.max(1, Math.ceil(lifetimes));
  return keys.map((key) => {
    const mine = records.filter(
      (record) =>
        record.method === "POST" &&
        record.path.endsWith("/oauth2/v2.0/token") &&
        record.tenant === key.tenant.id &&
        record.scope === key.scope &&
        record.at >= window.startAt &&
        record.at <= window.endAt,
    );
    const perWindow = new Array<number>(windows).fill(0);
    for (const record of mine) {
      const index = Math.min(windows - 1, Math.floor((record.at - window.startAt) / window.lifetimeMs));
      perWindow[index] = (perWindow[index] ?? 0) + 1;
    }
    return {
      key: key.label,
      requests: mine.length,
      faulted: mine.filter((record) => record.fault !== undefined).length,
      perLifetime: mine.length / lifetimes,
      perWindow,
    };
  });
}

/** Everything the soak asserts, as a list of what went wrong. */
export function judge(
  workers: readonly WorkerReport[],
  requests: KeyRequests[],
  lifetimes: number,
  limits: SoakLimits,
): SoakVerdict {
  const keys = mergeKeyReports(workers);
  const failures: string[] = [];
  if (lifetimes < limits.minLifetimes) failures.push(`the run spanned ${lifetimes.toFixed(1)} token lifetimes, fewer than ${limits.minLifetimes}`);
  for (const key of keys) {
    if (key.failedWhileValid > 0) {
      failures.push(`${key.key}: ${key.failedWhileValid} acquisitions failed while a valid token existed (${describeCounts(key.errors)})`);
    }
    if (key.wrongTokens > 0) failures.push(`${key.key}: ${key.wrongTokens} invalid tokens handed out (${key.wrongTokenReasons.join("; ")})`);
    if (key.ok === 0) failures.push(`${key.key}: no acquisition succeeded`);
  }
  const heap = workers.map((worker) => ({
    worker: worker.worker,
    afterWarmup: worker.heapAfterWarmup,
    atEnd: worker.heapAtEnd,
    growth: (worker.heapAtEnd - worker.heapAfterWarmup) / worker.heapAfterWarmup,
    samples: worker.heapSamples,
  }));
  for (const entry of heap) {
    if (!Number.isFinite(entry.growth)) failures.push(`worker ${entry.worker}: no heap baseline (the run ended before warm-up)`);
    else if (entry.growth > limits.maxHeapGrowth) {
      failures.push(`worker ${entry.worker}: heap grew ${percent(entry.growth)} after warm-up (limit ${percent(limits.maxHeapGrowth)})`);
    }
  }
  for (const worker of workers) {
    if (worker.unhandledRejections > 0) failures.push(`worker ${worker.worker}: ${worker.unhandledRejections} unhandled rejections`);
  }
  return { keys, requests, heap, lifetimes, failures };
}

/** A Markdown table: numbers right-aligned, columns padded so it also reads as plain text. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === "number" ? formatNumber(cell) : cell)));
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === "number"));
  const widths = headers.map((header, column) => Math.max(header.length, 3, ...cells.map((row) => (row[column] ?? "").length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, column) => (numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join(" | ")} |`;
  const rule = `| ${widths.map((width, column) => (numeric[column] ? `${"-".repeat(width - 1)}:` : "-".repeat(width))).join(" | ")} |`;
  return [line(headers), rule, ...cells.map(line)].join("\n");
}

/** The printed report: acquisitions, token requests and memory, then the verdict. */
export function formatVerdict(verdict: SoakVerdict): string {
  const acquisitions = table(
    ["key", "ok", "failed while valid", "failed without valid", "errors", "sources", "tokens", "invalid tokens", "slowest ms"],
    verdict.keys.map((key) => [
      key.key,
      key.ok,
      key.failedWhileValid,
      key.failedWithoutValid,
      describeCounts(key.errors),
      describeCounts(key.sources),
      key.tokens,
      key.wrongTokens,
      key.slowestMs,
    ]),
  );
  const requests = table(
    ["key", "token requests", "faulted", "per lifetime", "in each lifetime"],
    verdict.requests.map((entry) => [entry.key, entry.requests, entry.faulted, entry.perLifetime, entry.perWindow.join(" ")]),
  );
  const heap = table(
    ["worker", "heap after warm-up", "heap at end", "growth", "once per lifetime (MB)"],
    verdict.heap.map((entry) => [
      String(entry.worker),
      megabytes(entry.afterWarmup),
      megabytes(entry.atEnd),
      percent(entry.growth),
      entry.samples.map((bytes) => (bytes / 1024 / 1024).toFixed(1)).join(" → "),
    ]),
  );
  const outcome =
    verdict.failures.length === 0 ? "PASS: every check held." : `FAIL:\n${verdict.failures.map((failure) => `- ${failure}`).join("\n")}`;
  return [
    `Acquisitions per key (all workers):\n\n${acquisitions}`,
    `Token requests per key over ${verdict.lifetimes.toFixed(1)} token lifetimes (emulator log):\n\n${requests}`,
    `Worker heap (live objects after a full GC, compiled code left out):\n\n${heap}`,
    outcome,
  ].join("\n\n");
}

function describeCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "—" : entries.map(([name, count]) => `${name} ${count}`).join(", ");
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function percent(fraction: number): string {
  return `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

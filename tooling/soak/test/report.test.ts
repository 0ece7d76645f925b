import { describe, expect, it } from "vitest";
import type { KeyReport, WorkerReport } from "../src/protocol.js";
import { countTokenRequests, formatVerdict, judge, mergeKeyReports, table, type TokenRequestRecord } from "../src/report.js";
import { soakKeys } from "../src/scenario.js";

const LIMITS = { minLifetimes: 5, maxHeapGrowth: 0.2 };

function keyReport(key: string, overrides: Partial<KeyReport> = {}): KeyReport {
  return {
    key,
    ok: 10,
    failedWhileValid: 0,
    failedWithoutValid: 0,
    errors: {},
    sources: { cache: 9, network: 1 },
    tokens: 1,
    wrongTokens: 0,
    wrongTokenReasons: [],
    slowestMs: 5,
    ...overrides,
  };
}

function workerReport(worker: number, keys: KeyReport[], heap: [number, number] = [10_000_000, 10_500_000]): WorkerReport {
  return { worker, keys, heapAfterWarmup: heap[0], heapAtEnd: heap[1], heapSamples: [heap[0]], unhandledRejections: 0 };
}

describe("mergeKeyReports", () => {
  it("adds the counts of every worker per key", () => {
    const merged = mergeKeyReports([
      workerReport(0, [keyReport("a", { errors: { http_error: 1 }, failedWithoutValid: 1, slowestMs: 40 })]),
      workerReport(1, [keyReport("a", { errors: { http_error: 2, timeout: 1 }, sources: { "shared-cache": 3 }, slowestMs: 7 })]),
    ]);
    expect(merged).toEqual([
      keyReport("a", {
        ok: 20,
        failedWithoutValid: 1,
        errors: { http_error: 3, timeout: 1 },
        sources: { cache: 9, network: 1, "shared-cache": 3 },
        tokens: 2,
        slowestMs: 40,
      }),
    ]);
  });
});

describe("countTokenRequests", () => {
  it("counts each key's token requests per lifetime window, faulted ones apart", () => {
    const [first, second] = soakKeys();
    const at = (offset: number, key = first, fault?: string): TokenRequestRecord => ({
      method: "POST",
      path: `/${key?.tenant.id ?? ""}/oauth2/v2.0/token`,
      tenant: key?.tenant.id ?? "",
      scope: key?.scope ?? "",
      status: fault === undefined ? 200 : 503,
      ...(fault === undefined ? {} : { fault }),
      at: 1_000 + offset,
    });
    const records = [at(0), at(5, first, "status"), at(6), at(25), at(45), at(10, second), at(-1), at(61)];
    const [mine, theirs] = countTokenRequests(records, [first!, second!], { startAt: 1_000, endAt: 1_060, lifetimeMs: 20 });
    expect(mine).toEqual({ key: first?.label, requests: 5, faulted: 1, perLifetime: 5 / 3, perWindow: [3, 1, 1] });
    expect(theirs).toEqual({ key: second?.label, requests: 1, faulted: 0, perLifetime: 1 / 3, perWindow: [1, 0, 0] });
  });
});

describe("judge", () => {
  it("passes a run with no failure while a token was valid, no invalid token and a flat heap", () => {
    const verdict = judge([workerReport(0, [keyReport("a", { failedWithoutValid: 2 })])], [], 6, LIMITS);
    expect(verdict.failures).toEqual([]);
    expect(formatVerdict(verdict)).toMatch(/PASS/);
  });

  it("names every broken promise", () => {
    const workers = [
      workerReport(0, [keyReport("a", { failedWhileValid: 2, errors: { timeout: 2 } })], [10_000_000, 13_000_000]),
      { ...workerReport(1, [keyReport("a", { wrongTokens: 1, wrongTokenReasons: ["aud api://other"] }), keyReport("b", { ok: 0 })]), unhandledRejections: 1 },
    ];
    const verdict = judge(workers, [], 4, LIMITS);
    expect(verdict.failures).toEqual([
      "the run spanned 4.0 token lifetimes, fewer than 5",
      "a: 2 acquisitions failed while a valid token existed (timeout 2)",
      "a: 1 invalid tokens handed out (aud api://other)",
      "b: no acquisition succeeded",
      "worker 0: heap grew +30.0% after warm-up (limit +20.0%)",
      "worker 1: 1 unhandled rejections",
    ]);
    expect(formatVerdict(verdict)).toMatch(/FAIL:\n- the run spanned/);
  });

  it("fails a worker that never reached its heap baseline", () => {
    const verdict = judge([workerReport(3, [keyReport("a")], [Number.NaN, 10_000_000])], [], 6, LIMITS);
    expect(verdict.failures).toEqual(["worker 3: no heap baseline (the run ended before warm-up)"]);
  });
});

describe("table", () => {
  it("pads columns and right-aligns numbers", () => {
    expect(table(["key", "n"], [["ab", 1], ["c", 2.5]])).toBe(["| key |    n |", "| --- | ---: |", "| ab  |    1 |", "| c   | 2.50 |"].join("\n"));
  });
});

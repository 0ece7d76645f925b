import { describe, expect, it } from "vitest";
import { formatReport, runBenchmarks } from "../src/index.js";

// Not a timing test: tiny sizes, and only the presence and sanity of figures is checked.
describe("runBenchmarks", () => {
  it("produces a figure for every scenario and every library that takes part", { timeout: 120_000 }, async () => {
    const report = await runBenchmarks({
      repetitions: 1,
      hitIterations: 20,
      tenantCounts: [1, 10],
      concurrentCallers: 10,
      emulatorDurationMs: 100,
      refreshCallers: 2,
      certificateTenants: 5,
      sharedProcesses: 2,
      memoryTenants: 20,
      sidecarDurationMs: 100,
      sidecarCallers: 3,
      audienceCounts: [1, 10],
      coldStartRuns: 1,
      managedIdentityCallers: 5,
    });

    expect(report.figures.map((figure) => figure.scenario)).toEqual([
      "cache hit, one tenant",
      "cache hit, one tenant, telemetry on (OpenTelemetry SDK)",
      "cache hit, one tenant, telemetry on (OpenTelemetry API, no SDK)",
      "cache hit, 1 tenants",
      "cache hit, 10 tenants",
      "10 concurrent cold calls, one key",
      "emulator, loopback HTTPS, cache bypassed, sequential",
      "emulator, loopback HTTPS, cache bypassed, 50 in flight",
      "caller latency across a proactive refresh (2 callers, endpoint 200 ms), p50",
      "caller latency across a proactive refresh (2 callers, endpoint 200 ms), p99",
      "caller latency across a proactive refresh (2 callers, endpoint 200 ms), slowest call",
      "certificate, cache hit round-robin over 5 tenants",
      "certificate, assertions signed per 1,000 cache hits (5 tenants)",
      "2 processes sharing Redis, cold start: token requests per key",
      "2 processes sharing Redis, across a refresh point: token requests per key",
      "heap growth per cached token, 20 tenants",
      "sidecar, loopback HTTP, cached token, sequential",
      "sidecar, loopback HTTP, cached token, 50 in flight",
      "3 callers of one key: sidecar vs 3 msal-node processes, token requests",
      "cache hit, 1 audiences in one tenant",
      "cache hit, 10 audiences in one tenant",
      "cold start: import the library",
      "cold start: import and first token",
      "managed identity (IMDS), cache hit",
      "managed identity (IMDS), 5 concurrent cold calls",
    ]);
    for (const figure of report.figures) {
      expect(Number.isFinite(figure.ours), figure.scenario).toBe(true);
    }
    const byName = new Map(report.figures.map((figure) => [figure.scenario, figure]));
    // Every incumbent took part where it applies.
    for (const name of ["cache hit, one tenant", "cache hit, 10 tenants", "10 concurrent cold calls, one key"]) {
      expect(byName.get(name)?.msal, name).toBeGreaterThan(0);
      expect(byName.get(name)?.identity, name).toBeGreaterThan(0);
    }
    // The hit curves are timed beside their floor, and msal-node takes part at small counts.
    for (const name of ["cache hit, 10 tenants", "cache hit, 10 audiences in one tenant"]) {
      expect(byName.get(name)?.floor, name).toBeGreaterThan(0);
      expect(byName.get(name)?.floorRatio, name).toBeGreaterThan(0);
      expect(byName.get(name)?.msal, name).toBeGreaterThan(0);
    }
    for (const library of ["ours", "msal", "identity"] as const) {
      expect(byName.get("cold start: import and first token")?.[library], library).toBeGreaterThan(0);
    }
    const sequential = byName.get("emulator, loopback HTTPS, cache bypassed, sequential");
    expect(sequential?.floor).toBeGreaterThan(0);
    expect(sequential?.msal).toBeGreaterThan(0);
    expect(report.availableParallelism).toBeGreaterThan(0);
    expect(report.targets.length).toBeGreaterThanOrEqual(8);
    expect(byName.get("3 callers of one key: sidecar vs 3 msal-node processes, token requests")).toMatchObject({ ours: 1, msal: 3 });
    expect(formatReport(report)).toContain("| cache hit, one tenant | µs/call |");
  });

  it("counts token requests and signatures, which do not depend on timing", { timeout: 60_000 }, async () => {
    const report = await runBenchmarks({
      repetitions: 1,
      hitIterations: 10,
      tenantCounts: [1],
      concurrentCallers: 25,
      emulatorDurationMs: 0,
      refreshCallers: 0,
      certificateTenants: 4,
      sharedProcesses: 0,
      memoryTenants: 0,
      sidecarDurationMs: 0,
      sidecarCallers: 0,
      audienceCounts: [],
      coldStartRuns: 0,
      managedIdentityCallers: 25,
    });
    const byName = new Map(report.figures.map((figure) => [figure.scenario, figure]));
    expect(byName.get("25 concurrent cold calls, one key")).toMatchObject({ ours: 1, msal: 25, identity: 25 });
    // Against the emulator's IMDS: one request for every concurrent cold caller of ours, one each for the incumbents'.
    expect(byName.get("managed identity (IMDS), 25 concurrent cold calls")).toMatchObject({ ours: 1, msal: 25, identity: 25 });
    // daemon-auth reuses each tenant's assertion; msal-node signs again on every tenant switch.
    expect(byName.get("certificate, assertions signed per 1,000 cache hits (4 tenants)")).toMatchObject({ ours: 0, msal: 1000 });
  });
});

import { describe, expect, it } from "vitest";
import { formatReport, runBenchmarks } from "../src/index.js";

// Not a timing test: tiny sizes, and only the presence and sanity of figures is checked.
describe("runBenchmarks", () => {
  it("produces a figure for every in-process scenario and both libraries", async () => {
    const report = await runBenchmarks({
      repetitions: 1,
      hitIterations: 20,
      tenantCounts: [1, 10],
      concurrentCallers: 10,
      emulatorDurationMs: 0,
    });

    expect(report.figures.map((figure) => figure.scenario)).toEqual([
      "cache hit, one tenant",
      "cache hit, 1 tenants",
      "cache hit, 10 tenants",
      "10 concurrent cold calls, one key",
    ]);
    for (const figure of report.figures) {
      expect(Number.isFinite(figure.ours) && figure.ours > 0).toBe(true);
      expect(figure.msal !== undefined && Number.isFinite(figure.msal) && figure.msal > 0).toBe(true);
    }
    expect(report.availableParallelism).toBeGreaterThan(0);
    expect(formatReport(report)).toContain("| cache hit, one tenant | µs/call |");
  });

  it("counts the token requests of a cold stampede, one per caller at most", async () => {
    const report = await runBenchmarks({ repetitions: 1, hitIterations: 1, tenantCounts: [1], concurrentCallers: 25, emulatorDurationMs: 0 });
    const stampede = report.figures.at(-1);
    expect(stampede?.unit).toBe("token requests");
    expect(stampede?.ours).toBeGreaterThanOrEqual(1);
    expect(stampede?.msal).toBeLessThanOrEqual(25);
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The suites are only worth something if they fail on broken subjects. This runs them
// in a real vitest child process against fixtures/broken.fixture.ts and reads the report.

interface AssertionResult {
  title: string;
  ancestorTitles: string[];
  status: string;
  failureMessages: string[];
}

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const vitestBin = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
let results: AssertionResult[] = [];
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "conformance-"));
  const outputFile = join(workDir, "report.json");
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [vitestBin, "run", "--config", join(fixtures, "vitest.config.js"), "--reporter=json", `--outputFile=${outputFile}`],
      { cwd: fixtures, timeout: 60_000, env: { ...process.env, CI: "1" } },
      (error) => {
        // Failing tests are the point: a non-zero exit is expected, a missing report is not.
        if (error && error.code !== 1) reject(new Error(`The vitest child process failed: ${error.message}`, { cause: error }));
        else resolve();
      },
    );
  });
  const report = JSON.parse(await readFile(outputFile, "utf8")) as { testResults: { assertionResults: AssertionResult[] }[] };
  results = report.testResults.flatMap((file) => file.assertionResults);
}, 60_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function statusOf(suite: string, title: string): string | undefined {
  return results.find((result) => result.ancestorTitles[0]?.endsWith(`: ${suite}`) && result.title === title)?.status;
}

describe("the store suite", () => {
  it.each([
    "round-trips hostile keys without collisions",
    "does not let a traversal key read another entry",
    "drops an entry once its expiresAt has passed",
    "accepts an expiresAt in the past and stores nothing",
    "refuses a second holder without waiting",
    "gives exactly one of many concurrent callers the lock",
  ])("fails a broken store on: %s", (title) => {
    expect(statusOf("broken", title)).toBe("failed");
  });

  it("still passes the broken store where it behaves", () => {
    expect(statusOf("broken", "round-trips a value")).toBe("passed");
    expect(statusOf("broken", "deletes a missing key without error")).toBe("passed");
  });
});

describe("the credential suite", () => {
  it.each([
    "keeps secret material out of every rendering, before and after use",
    "rejects an already-aborted signal with AbortError",
    "rejects with a typed error that keeps its cause",
    "keeps secret material out of the error",
  ])("fails a leaky credential on: %s", (title) => {
    expect(statusOf("leaky", title)).toBe("failed");
  });

  it("never prints the leaked secret in its own failure messages", () => {
    const leaky = results.filter((result) => result.ancestorTitles[0]?.endsWith(": leaky"));
    expect(leaky.length).toBeGreaterThan(0);
    const secrecyFailures = leaky.filter((result) => result.title.startsWith("keeps secret material")).flatMap((r) => r.failureMessages);
    expect(secrecyFailures.length).toBeGreaterThan(0);
    for (const message of secrecyFailures) expect(message).not.toContain("Q~leakedSecretValue");
  });
});

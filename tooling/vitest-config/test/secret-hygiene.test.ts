// The hygiene reporter, end to end: a child vitest runs a project whose test leaks a
// token its ledger knows, in each way a leak reaches the output, and must fail.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./fixtures/hygiene/", import.meta.url));
const vitestBin = createRequire(import.meta.url).resolve("vitest/vitest.mjs");

async function runFixture(leak: string): Promise<{ code: number | null; output: string }> {
  // Without the parent's worker variables and ledger, the child is a run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "DAEMON_AUTH_SECRET_LEDGER"));
  const child = spawn(process.execPath, [vitestBin, "run", "--root", fixture], { env: { ...env, HYGIENE_LEAK: leak, NO_COLOR: "1" } });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, output };
}

/** The reporter's own lines: they name the kind and the test, never the secret. */
function report(output: string): string {
  const start = output.indexOf("Secret hygiene: FAILED");
  return start < 0 ? "" : output.slice(start, output.indexOf("Keep secrets", start));
}

describe("secret hygiene reporter", { timeout: 60_000 }, () => {
  it("passes a run that keeps its secrets", async () => {
    const { code, output } = await runFixture("none");
    expect(output).not.toContain("Secret hygiene: FAILED");
    expect(code).toBe(0);
  });

  it.each([
    ["console", /an access token appears in stdout printed by test ".*leak\.fixture\.ts > acquires a token"/],
    ["child", /an access token \(URL-encoded\) appears in stdout printed by test ".*acquires a token"/],
    ["error", /an access token appears in the failure of test ".*leak\.fixture\.ts > acquires a token"/],
  ])("fails a run whose test leaks a ledger secret through %s output", async (leak, line) => {
    const { code, output } = await runFixture(leak);
    expect(code).toBe(1);
    const lines = report(output);
    expect(lines).toMatch(line);
    expect(lines).not.toMatch(/fixture-access-token-/);
  });
});

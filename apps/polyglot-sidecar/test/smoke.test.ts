import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const DEMO = fileURLToPath(new URL("../dist/demo.js", import.meta.url));

describe("polyglot-sidecar", () => {
  it("runs the offline demo: Node and Python jobs share one sidecar and one token request", { timeout: 120_000 }, async () => {
    if (!existsSync(DEMO)) throw new Error("apps/polyglot-sidecar is not built: run `pnpm --filter @daemon-auth/sample-polyglot-sidecar... build`.");
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [DEMO], { timeout: 110_000 });
    expect(stderr).toBe("");
    expect(stdout).toMatch(/node @azure\/identity +token for api:\/\/daemon-auth-demo, roles \[Orders\.Read\.All\]/);
    expect(stdout).toContain("1 token request to the emulator.");
    expect(stdout).toContain("Done: every job got the app's token from the one sidecar");
    if (!stdout.includes("the Python job was skipped")) {
      expect(stdout).toMatch(/python azure-identity +token for api:\/\/daemon-auth-demo, roles \[Orders\.Read\.All\]/);
    }
  });
});

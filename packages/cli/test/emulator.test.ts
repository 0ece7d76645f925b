import { demoEmulatorIdentities as ids } from "@daemon-auth/emulator";
import { describe, expect, it } from "vitest";
import { claimsOf, daemonAuth, startDaemonAuth } from "./helpers.js";

describe("daemon-auth emulator", () => {
  it("runs the emulator's CLI with the demo directory until SIGTERM, and `token` gets a token from it", async () => {
    const emulator = startDaemonAuth(["emulator", "--port", "0", "--quiet"]);
    try {
      await emulator.waitForOutput("Press Ctrl-C to stop.");
      const url = /^daemon-auth emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(emulator.stdout())?.[1];
      expect(url).toBeDefined();
      expect(emulator.stdout()).toContain(`client id ${ids.daemonClientId}`);

      const run = await daemonAuth(["token", "--scope", ids.apiScope], {
        env: { AZURE_AUTHORITY_HOST: url, AZURE_TENANT_ID: ids.tenantId, AZURE_CLIENT_ID: ids.daemonClientId, AZURE_CLIENT_SECRET: ids.daemonClientSecret },
      });
      expect(run.code).toBe(0);
      expect(claimsOf(run.stdout.trim()).iss).toBe(`${url}/${ids.tenantId}/v2.0`);
    } finally {
      emulator.kill("SIGTERM");
    }
    const stopped = await emulator.exited;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain("SIGTERM: stopping");
    expect(stopped.stderr).toBe("");
  });

  it("prints the emulator's options under its daemon-auth name", async () => {
    const run = await daemonAuth(["emulator", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: daemon-auth emulator \[options\]\n/);
    for (const flag of ["--port <n>", "--https", "--config <file.json>"]) expect(run.stdout).toContain(flag);
  });
});

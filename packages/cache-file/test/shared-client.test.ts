import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";
import { startNode, type NodeProcess } from "@daemon-auth/test-utils";
import { expect, it } from "vitest";

const PROCESSES = 8;
const acquire = fileURLToPath(new URL("./fixtures/acquire.ts", import.meta.url));

it(`makes one token request for ${PROCESSES} cold processes sharing one cache directory`, { timeout: 90_000 }, async () => {
  const emulator = await startEmulator({ config: demoEmulatorConfig() });
  const directory = mkdtempSync(join(tmpdir(), "daemon-auth-shared-"));
  const barrier = mkdtempSync(join(tmpdir(), "daemon-auth-barrier-"));
  let children: NodeProcess[] = [];
  try {
    const ids = demoEmulatorIdentities;
    const args = [emulator.authority(ids.tenantId), ids.daemonClientId, ids.apiScope, directory, barrier];
    children = Array.from({ length: PROCESSES }, () =>
      startNode(acquire, args, { env: { TEST_CLIENT_SECRET: ids.daemonClientSecret }, timeoutMs: 60_000 }),
    );
    // Every process has loaded before any acquires, so they really race.
    await Promise.all(children.map((child) => child.waitForOutput("ready", 60_000)));
    writeFileSync(join(barrier, "go"), "");
    const results = await Promise.all(children.map((child) => child.exited));
    const reports = results.map((result) => {
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout.split("\n")[1] ?? "") as { source: string; token: string };
    });

    expect(emulator.tokenRequestCount()).toBe(1);
    expect(new Set(reports.map((report) => report.token)).size).toBe(1);
    expect(reports.filter((report) => report.source === "network")).toHaveLength(1);
    expect(reports.filter((report) => report.source === "shared-cache")).toHaveLength(PROCESSES - 1);
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
    rmSync(barrier, { recursive: true, force: true });
  }
});

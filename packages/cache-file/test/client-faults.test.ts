import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDaemonClient } from "@daemon-auth/core";
import { expectValidEmulatorToken } from "@daemon-auth/conformance";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { startNode } from "@daemon-auth/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileCache } from "../src/index.js";

const ids = demoEmulatorIdentities;
let emulator: Emulator;
let directory: string;

beforeEach(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  directory = mkdtempSync(join(tmpdir(), "daemon-auth-file-faults-"));
});
afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Acquires through a client with a cold in-process cache, as a freshly started daemon does. */
async function acquireCold(): Promise<{ source: string; accessToken: string }> {
  const cache = createFileCache({ directory });
  const client = createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: clientSecret(ids.daemonClientSecret),
    cache,
  });
  try {
    return await client.acquireTokenForClient({ scopes: [ids.apiScope] });
  } finally {
    await client.dispose();
    await cache.dispose?.();
  }
}

const expected = (): { jwksUri: string; clientId: string } => ({ jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId });
const entries = (): string[] => readdirSync(directory).filter((name) => name.endsWith(".json"));

describe("createDaemonClient with createFileCache: damaged files", () => {
  it("treats a truncated cache file as a miss and returns a valid token from the network", async () => {
    expect((await acquireCold()).source).toBe("network");
    expect(entries()).not.toHaveLength(0);
    for (const cut of [(size: number) => Math.floor(size / 2), () => 1, () => 0]) {
      for (const name of entries()) truncateSync(join(directory, name), cut(statSync(join(directory, name)).size));
      const result = await acquireCold();
      expect(result.source).toBe("network");
      await expectValidEmulatorToken(result.accessToken, expected());
      // The fresh token replaced the damaged entry, so the next daemon reads it.
      const next = await acquireCold();
      expect(next.source).toBe("shared-cache");
      expect(next.accessToken).toBe(result.accessToken);
    }
  });

  it("leaves a cache that serves or misses cleanly after a refreshing client is killed with SIGKILL", { timeout: 60_000 }, async () => {
    const args = [emulator.authority(ids.tenantId), ids.daemonClientId, ids.apiScope, directory];
    const script = fileURLToPath(new URL("./fixtures/refreshing-client.ts", import.meta.url));
    for (let round = 0; round < 3; round++) {
      const child = startNode(script, args, { env: { TEST_CLIENT_SECRET: ids.daemonClientSecret } });
      await child.waitForOutput("ready");
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
      child.kill("SIGKILL");
      expect((await child.exited).signal).toBe("SIGKILL");

      const result = await acquireCold();
      expect(["shared-cache", "network"]).toContain(result.source);
      await expectValidEmulatorToken(result.accessToken, expected());
    }
  });
});

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
import { killAtRandomPoint } from "./fixtures/kill.js";

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
async function acquireCold(scope: string = ids.apiScope): Promise<{ source: string; accessToken: string }> {
  const cache = createFileCache({ directory });
  const client = createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: clientSecret(ids.daemonClientSecret),
    cache,
  });
  try {
    return await client.acquireTokenForClient({ scopes: [scope] });
  } finally {
    await client.dispose();
    await cache.dispose?.();
  }
}

/** A second API, so the cache holds tokens for two keys that must never be swapped. */
const reportsApi = { clientId: "7b9d1f3a-5c7e-4a9b-8d1f-3a5c7e9b1d2f", uri: "api://daemon-auth-reports" };
const audienceOf = (token: string): unknown =>
  (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { aud?: unknown }).aud;

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
      await killAtRandomPoint(child, 100);

      const result = await acquireCold();
      expect(["shared-cache", "network"]).toContain(result.source);
      await expectValidEmulatorToken(result.accessToken, expected());
    }
  });

  it("serves each scope only its own token after clients refreshing two scopes are killed with SIGKILL", { timeout: 90_000 }, async () => {
    emulator.addApplication({
      clientId: reportsApi.clientId,
      homeTenant: ids.tenantId,
      identifierUris: [reportsApi.uri],
      appRoles: [{ value: "Reports.Read.All", id: "d3e4f5a6-b7c8-4d9e-8f1a-2b3c4d5e6f7a", description: "Read all reports" }],
    });
    emulator.grant({ tenant: ids.tenantId, clientId: ids.daemonClientId, resource: reportsApi.uri, roles: ["Reports.Read.All"] });
    const resources = [ids.apiIdentifierUri, reportsApi.uri];
    const scopes = resources.map((resource) => `${resource}/.default`);
    const script = fileURLToPath(new URL("./fixtures/refreshing-client.ts", import.meta.url));
    const args = [emulator.authority(ids.tenantId), ids.daemonClientId, scopes.join(","), directory];
    for (let round = 0; round < 3; round++) {
      // Two daemons rewrite both entries at once; each dies at its own random moment.
      const children = [0, 1].map(() => startNode(script, args, { env: { TEST_CLIENT_SECRET: ids.daemonClientSecret } }));
      await Promise.all(children.map((child) => child.waitForOutput("ready")));
      await Promise.all(children.map((child) => killAtRandomPoint(child, 150)));
      for (const [index, scope] of scopes.entries()) {
        const result = await acquireCold(scope);
        expect(result.source, `${scope} after kill round ${round}`).toBe("shared-cache");
        await expectValidEmulatorToken(result.accessToken, expected());
        expect(audienceOf(result.accessToken), `${scope} after kill round ${round}`).toBe(resources[index]);
      }
    }
  });
});

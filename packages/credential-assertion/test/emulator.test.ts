// End to end, offline: the emulator plays both the external OpenID issuer (a
// Kubernetes cluster writing a projected token file) and Entra ID with a
// federated identity credential on the daemon app; core's client gets app tokens.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDaemonClient, type Clock } from "@daemon-auth/core";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { federatedTokenFileCredential } from "../src/index.js";

const SUBJECT = "system:serviceaccount:orders:daemon";

let emulator: Emulator;
/** The emulator's time; tests move it to expire federated tokens. */
let now = Date.now();
const serverClock: Clock = { now: () => now };
let dir: string;
let path: string;

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig(), clock: () => now });
  emulator.addFederatedCredential(ids.daemonClientId, { issuer: emulator.externalIssuer, subject: SUBJECT, name: "kubernetes" });
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(async () => {
  now = Date.now();
  dir = await mkdtemp(join(tmpdir(), "daemon-auth-federated-e2e-"));
  path = join(dir, "azure-identity-token");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a new external token the way the kubelet does: aside, then renamed over the file. */
async function writeToken(lifetimeSeconds: number): Promise<void> {
  const token = await emulator.issueExternalToken({ subject: SUBJECT, lifetimeSeconds });
  await writeFile(`${path}.new`, token, { mode: 0o600 });
  await rename(`${path}.new`, path);
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
}

describe("federated token file against the emulator", () => {
  it("acquires an app-only token for the demo API with a token file", async () => {
    await writeToken(3600);
    const client = createDaemonClient({
      authority: emulator.authority(ids.tenantId),
      clientId: ids.daemonClientId,
      credential: federatedTokenFileCredential({ path }),
    });
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    expect(result.source).toBe("network");
    expect(claimsOf(result.accessToken)).toMatchObject({ azp: ids.daemonClientId, azpacr: "2", aud: ids.apiIdentifierUri, roles: ["Orders.Read.All"] });
    await client.dispose();
  });

  it("picks up the rotated file once the old token expires, with no rejected request", async () => {
    await writeToken(600);
    const client = createDaemonClient({
      authority: emulator.authority(ids.tenantId),
      clientId: ids.daemonClientId,
      clock: serverClock,
      credential: federatedTokenFileCredential({ path, clock: serverClock, maxAgeMs: 3_600_000 }),
    });
    await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    await writeToken(3600);
    now += 601_000;
    const before = emulator.tokenRequestCount();
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(claimsOf(result.accessToken)["azpacr"]).toBe("2");
    // The old token would now be refused (AADSTS700024): one request means the new file was sent.
    expect(emulator.tokenRequestCount() - before).toBe(1);
    await client.dispose();
  });

  it("reloads the file when the server refuses the old token (700024), then succeeds", async () => {
    await writeToken(600);
    // The credential's clock stays behind the server's: only the server's refusal makes it re-read the file.
    const client = createDaemonClient({
      authority: emulator.authority(ids.tenantId),
      clientId: ids.daemonClientId,
      credential: federatedTokenFileCredential({ path, maxAgeMs: 3_600_000 }),
    });
    await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    now += 601_000;
    await writeToken(3600);
    emulator.resetRequests();
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(claimsOf(result.accessToken)["roles"]).toEqual(["Orders.Read.All"]);
    const outcomes = emulator.requests.filter((request) => request.method === "POST").map((request) => request.errorCodes ?? request.status);
    expect(outcomes).toEqual([[700024], 200]);
    await client.dispose();
  });
});

// End to end: the credential signs assertions that the emulator validates the way
// Entra does, through core's client, and a certificate rotated mid-run is survived.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDaemonClient } from "@daemon-auth/core";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateCredential } from "../src/index.js";
import { encryptedKeyPem, forgePfx, makeCertificate } from "./certificates.js";

let emulator: Emulator;
let dir: string;
const current = makeCertificate({ commonName: "daemon current", keyIndex: 0 });
const next = makeCertificate({ commonName: "daemon next", keyIndex: 1 });

beforeAll(async () => {
  const config = demoEmulatorConfig();
  emulator = await startEmulator({ config });
  emulator.addCertificate(ids.daemonClientId, { pem: current.certificatePem });
  dir = await mkdtemp(join(tmpdir(), "daemon-auth-cert-e2e-"));
});
afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
}

function clientFor(credential: ReturnType<typeof certificateCredential>) {
  return createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId: ids.daemonClientId, credential });
}

describe("certificate credential against the emulator", () => {
  it.each([
    ["a PEM file (certificate + key)", async () => {
      const path = join(dir, "app.pem");
      await writeFile(path, current.certificatePem + current.keyPem, { mode: 0o600 });
      return certificateCredential({ path });
    }],
    ["an encrypted PEM key in a second file", async () => {
      const certificatePath = join(dir, "cert.pem");
      const privateKeyPath = join(dir, "key.pem");
      await writeFile(certificatePath, current.certificatePem);
      await writeFile(privateKeyPath, encryptedKeyPem(current.key, "pem-password", "pkcs8"), { mode: 0o600 });
      return certificateCredential({ certificatePath, privateKeyPath, password: "pem-password" });
    }],
    ["a PFX file", async () => {
      const path = join(dir, "app.pfx");
      await writeFile(path, forgePfx(current, [current], "pfx-password"), { mode: 0o600 });
      return certificateCredential({ path, password: "pfx-password" });
    }],
    ["an x5c chain (subject name + issuer)", async () =>
      certificateCredential({ pem: current.certificatePem + current.keyPem, sendCertificateChain: true })],
  ])("acquires an app-only token with %s", async (_name, create) => {
    const client = clientFor(await create());
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(result.source).toBe("network");
    const claims = claimsOf(result.accessToken);
    expect(claims["azpacr"]).toBe("2");
    expect(claims["roles"]).toEqual(["Orders.Read.All"]);
    await client.dispose();
  });

  it("survives a certificate rotated on disk and on the app registration mid-run, with no failed call", async () => {
    const path = join(dir, "rotating.pem");
    await writeFile(path, current.certificatePem + current.keyPem, { mode: 0o600 });
    // Long reload interval: only the server's rejection (AADSTS700027) makes it re-read the file.
    const credential = certificateCredential({ path, reloadCheckIntervalMs: 3_600_000 });
    const client = clientFor(credential);
    const tenants = [ids.tenantId, ids.tenantDomain];
    for (const tenantId of tenants) {
      await client.acquireTokenForClient({ scopes: [ids.apiScope], tenantId, forceRefresh: true });
    }
    // Rotate: register the new certificate, swap the file atomically, retire the old one.
    emulator.addCertificate(ids.daemonClientId, { pem: next.certificatePem });
    await writeFile(`${path}.tmp`, next.certificatePem + next.keyPem, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
    emulator.removeCertificate(ids.daemonClientId, current.certificatePem);
    const before = emulator.tokenRequestCount();
    for (let round = 0; round < 3; round++) {
      for (const tenantId of tenants) {
        const result = await client.acquireTokenForClient({ scopes: [ids.apiScope], tenantId, forceRefresh: true });
        expect(claimsOf(result.accessToken)["azpacr"]).toBe("2");
      }
    }
    // One rejected request (the cached assertion signed by the retired certificate), then all good.
    expect(emulator.tokenRequestCount() - before).toBe(7);
    expect(credential.thumbprints?.sha256).toBe(next.x509.fingerprint256.replace(/:/g, ""));
    await client.dispose();
  });
});

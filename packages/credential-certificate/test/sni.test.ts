// Subject name + issuer (SN+I), end to end: the app registration trusts a subject and an
// issuing CA (no thumbprint); `sendCertificateChain` puts the file's chain in x5c, and a
// certificate freshly issued by the same CA, swapped in on disk, works with no new
// registration. Without x5c the emulator answers AADSTS700027, as Entra does.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDaemonClient, ServerError } from "@daemon-auth/core";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateCredential } from "../src/index.js";
import { makeCertificate } from "./certificates.js";

const SUBJECT = "orders-daemon.contoso.test";
const ca = makeCertificate({ commonName: "Contoso Issuing CA", keyIndex: 2, ca: true });
let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  emulator.trustCertificateSubject(ids.daemonClientId, { subjectName: `CN=${SUBJECT}`, issuerPem: ca.certificatePem });
  dir = await mkdtemp(join(tmpdir(), "daemon-auth-sni-"));
});
afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

function clientFor(credential: ReturnType<typeof certificateCredential>) {
  return createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId: ids.daemonClientId, credential, retry: { maxAttempts: 1 } });
}

describe("certificates trusted by subject name and issuer", () => {
  it("authenticates with the chain in x5c, and a renewed certificate from the same CA is accepted without re-registering", async () => {
    const first = makeCertificate({ commonName: SUBJECT, keyIndex: 0, issuer: ca });
    const renewed = makeCertificate({ commonName: SUBJECT, keyIndex: 1, issuer: ca });
    const path = join(dir, "daemon.pem");
    await writeFile(path, first.certificatePem + ca.certificatePem + first.keyPem, { mode: 0o600 });
    const credential = certificateCredential({ path, sendCertificateChain: true, reloadCheckIntervalMs: 0 });
    const client = clientFor(credential);
    const before = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(before.source).toBe("network");

    await writeFile(`${path}.tmp`, renewed.certificatePem + ca.certificatePem + renewed.keyPem, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
    const after = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(after.source).toBe("network");
    const posts = emulator.requests.filter((r) => r.method === "POST" && r.clientId === ids.daemonClientId);
    expect(posts.map((r) => [r.clientAuth, r.status])).toEqual([
      ["assertion", 200],
      ["assertion", 200],
    ]);
    // The renewed certificate signed the second assertion: the first one's thumbprint is not registered anywhere.
    expect((await credential.certificateInfo()).thumbprints.sha256.replace(/:/g, "").toUpperCase()).toBe(
      renewed.x509.fingerprint256.replace(/:/g, ""),
    );
    await client.dispose();
  });

  it("is refused without x5c (AADSTS700027), and so is a certificate of another CA", async () => {
    const leaf = makeCertificate({ commonName: SUBJECT, keyIndex: 0, issuer: ca });
    const noChain = clientFor(certificateCredential({ pem: leaf.certificatePem + leaf.keyPem }));
    const error = await noChain.acquireTokenForClient({ scopes: [ids.apiScope] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).errorCodes).toEqual([700027]);

    const otherCa = makeCertificate({ commonName: "Contoso Issuing CA", keyIndex: 3, ca: true });
    const forged = makeCertificate({ commonName: SUBJECT, keyIndex: 0, issuer: otherCa });
    const other = clientFor(certificateCredential({ pem: forged.certificatePem + otherCa.certificatePem + forged.keyPem, sendCertificateChain: true }));
    await expect(other.acquireTokenForClient({ scopes: [ids.apiScope] })).rejects.toThrow(/AADSTS700027/);
    await Promise.all([noChain.dispose(), other.dispose()]);
  });
});

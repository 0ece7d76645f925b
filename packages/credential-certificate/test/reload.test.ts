import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { certificateCredential } from "../src/index.js";
import { forgePfx, makeCertificate, type TestCertificate } from "./certificates.js";
import { ENTRA, assertionOf, expectedThumbprints, headerOf, manualClock, tempDir, verifyAssertion } from "./helpers.js";

const first = makeCertificate({ commonName: "daemon-auth first" });
const second = makeCertificate({ commonName: "daemon-auth second", keyIndex: 1 });
const pemOf = (certificate: TestCertificate) => certificate.certificatePem + certificate.keyPem;

/** Replaces `path` atomically, as a rotation tool should. */
async function rotate(path: string, contents: string | Buffer): Promise<void> {
  await writeFile(`${path}.tmp`, contents, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

async function x5tS256(credential: ReturnType<typeof certificateCredential>): Promise<unknown> {
  return headerOf(assertionOf(await credential.getAuthentication(ENTRA)))["x5t#S256"];
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`) };
}

describe("file reload", () => {
  it("picks up a rewritten file once the check interval has passed, and drops reused assertions", async () => {
    const dir = await tempDir();
    const path = join(dir, "app.pem");
    await writeFile(path, pemOf(first), { mode: 0o600 });
    const clock = manualClock();
    const credential = certificateCredential({ path, clock });

    expect(await x5tS256(credential)).toBe(expectedThumbprints(first.x509).x5tS256);
    expect(credential.description).toContain("CN=daemon-auth first");
    await rotate(path, pemOf(second));

    clock.advance(9_999);
    expect(await x5tS256(credential)).toBe(expectedThumbprints(first.x509).x5tS256);
    clock.advance(1);
    const assertion = assertionOf(await credential.getAuthentication(ENTRA));
    await verifyAssertion(assertion, second.x509, ENTRA, "PS256", clock.now());
    expect(credential.description).toContain("CN=daemon-auth second");
    expect(String(credential)).toContain("CN=daemon-auth second");
    expect(credential.thumbprints?.sha1).toBe(second.x509.fingerprint.replaceAll(":", ""));
  });

  it("an in-place rewrite of a PFX (same inode) is noticed too", async () => {
    const dir = await tempDir();
    const path = join(dir, "app.pfx");
    await writeFile(path, forgePfx(first, [first], "pw"));
    const clock = manualClock();
    const credential = certificateCredential({ path, password: "pw", clock, reloadCheckIntervalMs: 0 });
    expect(await x5tS256(credential)).toBe(expectedThumbprints(first.x509).x5tS256);
    await writeFile(path, forgePfx(second, [second], "pw"));
    expect(await x5tS256(credential)).toBe(expectedThumbprints(second.x509).x5tS256);
  });

  it("keeps the previous certificate while the file is half-written or missing, then takes the new one", async () => {
    const dir = await tempDir();
    const path = join(dir, "app.pem");
    await writeFile(path, pemOf(first), { mode: 0o600 });
    const clock = manualClock();
    const logger = recordingLogger();
    const credential = certificateCredential({ path, clock, logger });
    await credential.getAuthentication(ENTRA);

    await writeFile(path, pemOf(second).slice(0, 900));
    clock.advance(10_000);
    await verifyAssertion(assertionOf(await credential.getAuthentication(ENTRA)), first.x509, ENTRA, "PS256", clock.now());
    expect(logger.warnings.join("\n")).toMatch(/Reloading the certificate failed; still using the previous certificate/);

    await rm(path);
    clock.advance(10_000);
    await verifyAssertion(assertionOf(await credential.getAuthentication(ENTRA)), first.x509, ENTRA, "PS256", clock.now());
    await expect(credential.reload()).resolves.toBeUndefined();

    await writeFile(path, pemOf(second));
    clock.advance(10_000);
    expect(await x5tS256(credential)).toBe(expectedThumbprints(second.x509).x5tS256);
    for (const warning of logger.warnings) expect(warning).not.toContain(first.keyPem.split("\n")[5]);
  });

  it("reload() re-reads at once, without waiting for the interval", async () => {
    const dir = await tempDir();
    const path = join(dir, "app.pem");
    await writeFile(path, pemOf(first));
    const credential = certificateCredential({ path, reloadCheckIntervalMs: Number.POSITIVE_INFINITY });
    expect(await x5tS256(credential)).toBe(expectedThumbprints(first.x509).x5tS256);
    await rotate(path, pemOf(second));
    expect(await x5tS256(credential)).toBe(expectedThumbprints(first.x509).x5tS256);
    await credential.reload({ error: "invalid_client", errorCodes: [700027] });
    expect(await x5tS256(credential)).toBe(expectedThumbprints(second.x509).x5tS256);
  });

  it("reload() reports an error when no good certificate was ever loaded", async () => {
    const dir = await tempDir();
    const path = join(dir, "app.pem");
    await writeFile(path, first.certificatePem);
    const credential = certificateCredential({ path });
    await expect(credential.reload()).rejects.toThrow(/No private key found in file/);
    await writeFile(path, pemOf(first));
    await credential.reload();
    await verifyAssertion(assertionOf(await credential.getAuthentication(ENTRA)), first.x509, ENTRA, "PS256");
  });

  it("rotates a certificate + key file pair", async () => {
    const dir = await tempDir();
    const certificatePath = join(dir, "cert.pem");
    const privateKeyPath = join(dir, "key.pem");
    await writeFile(certificatePath, first.certificatePem);
    await writeFile(privateKeyPath, first.keyPem, { mode: 0o600 });
    const clock = manualClock();
    const credential = certificateCredential({ certificatePath, privateKeyPath, clock });
    expect(await x5tS256(credential)).toBe(expectedThumbprints(first.x509).x5tS256);

    // Halfway through the rotation the pair does not match: keep signing with the old pair.
    await rotate(certificatePath, second.certificatePem);
    clock.advance(10_000);
    expect(await x5tS256(credential)).toBe(expectedThumbprints(first.x509).x5tS256);
    await rotate(privateKeyPath, second.keyPem);
    clock.advance(10_000);
    expect(await x5tS256(credential)).toBe(expectedThumbprints(second.x509).x5tS256);
  });

  it("concurrent first uses of a file get one assertion", async () => {
    const dir = await tempDir();
    const path = join(dir, "app.pem");
    await writeFile(path, pemOf(first));
    const credential = certificateCredential({ path });
    const all = await Promise.all(Array.from({ length: 20 }, () => credential.getAuthentication(ENTRA)));
    expect(new Set(all.map(assertionOf)).size).toBe(1);
    expect((await credential.certificateInfo()).source).toBe(`file "${path}"`);
  });
});

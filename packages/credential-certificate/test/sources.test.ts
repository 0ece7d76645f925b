import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { certificateCredential } from "../src/index.js";
import { encryptedKeyPem, forgePfx, hasOpenssl, makeCertificate, opensslEcPem, opensslPfx } from "./certificates.js";
import { ENTRA, GENERIC, assertionOf, expectedThumbprints, headerOf, tempDir, verifyAssertion } from "./helpers.js";

const leaf = makeCertificate({ commonName: "daemon-auth sources" });
const password = "correct horse battery staple";

async function expectSignsWith(credential: ReturnType<typeof certificateCredential>, certificate: X509Certificate): Promise<void> {
  const assertion = assertionOf(await credential.getAuthentication(ENTRA));
  const { header } = await verifyAssertion(assertion, certificate, ENTRA, "PS256");
  expect(header["x5t#S256"]).toBe(expectedThumbprints(certificate).x5tS256);
}

describe("PEM", () => {
  it("reads a PKCS#8 key next to the certificate, inline and from a file", async () => {
    await expectSignsWith(certificateCredential({ pem: leaf.certificatePem + leaf.keyPem }), leaf.x509);
    await expectSignsWith(certificateCredential({ pem: Buffer.from(leaf.keyPem + leaf.certificatePem) }), leaf.x509);

    const dir = await tempDir();
    await writeFile(join(dir, "app.pem"), leaf.keyPem + leaf.certificatePem, { mode: 0o600 });
    await expectSignsWith(certificateCredential({ path: join(dir, "app.pem") }), leaf.x509);
  });

  it("reads a PKCS#1 RSA PRIVATE KEY", async () => {
    const pkcs1 = leaf.key.export({ type: "pkcs1", format: "pem" }).toString();
    expect(pkcs1).toContain("BEGIN RSA PRIVATE KEY");
    await expectSignsWith(certificateCredential({ pem: leaf.certificatePem + pkcs1 }), leaf.x509);
  });

  it("decrypts an ENCRYPTED PRIVATE KEY (PKCS#8) and a legacy Proc-Type encrypted PKCS#1 key", async () => {
    const pkcs8 = encryptedKeyPem(leaf.key, password, "pkcs8");
    expect(pkcs8).toContain("BEGIN ENCRYPTED PRIVATE KEY");
    await expectSignsWith(certificateCredential({ pem: leaf.certificatePem + pkcs8, password }), leaf.x509);

    const legacy = encryptedKeyPem(leaf.key, password, "pkcs1");
    expect(legacy).toContain("Proc-Type: 4,ENCRYPTED");
    await expectSignsWith(certificateCredential({ pem: legacy + leaf.certificatePem, password }), leaf.x509);
  });

  it("reads the certificate and the key from two files", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "cert.pem"), leaf.certificatePem);
    await writeFile(join(dir, "key.pem"), encryptedKeyPem(leaf.key, password, "pkcs8"), { mode: 0o600 });
    const credential = certificateCredential({ certificatePath: join(dir, "cert.pem"), privateKeyPath: join(dir, "key.pem"), password });
    await expectSignsWith(credential, leaf.x509);
  });

  it("ignores bag attributes and other text around the blocks", async () => {
    const noisy = `Bag Attributes\n    localKeyId: 01\nsubject=/CN=x\n${leaf.certificatePem}\nKey Attributes: <No Attributes>\n${leaf.keyPem}`;
    await expectSignsWith(certificateCredential({ pem: noisy.replace(/\r?\n/g, "\r\n") }), leaf.x509);
  });
});

describe("chains", () => {
  const root = makeCertificate({ commonName: "daemon-auth root", keyIndex: 1, ca: true });
  const intermediate = makeCertificate({ commonName: "daemon-auth intermediate", keyIndex: 2, ca: true, issuer: root });
  const chained = makeCertificate({ commonName: "daemon-auth chained", issuer: intermediate });
  const derOf = (certificate: { x509: X509Certificate }) => certificate.x509.raw.toString("base64");

  it("sends x5c leaf first, then its issuers, whatever the order in the PEM", async () => {
    const pem = root.certificatePem + chained.keyPem + intermediate.certificatePem + chained.certificatePem;
    const credential = certificateCredential({ pem, sendCertificateChain: true });
    const header = headerOf(assertionOf(await credential.getAuthentication(ENTRA)));
    expect(header.x5c).toEqual([derOf(chained), derOf(intermediate), derOf(root)]);
    expect(header["x5t#S256"]).toBe(expectedThumbprints(chained.x509).x5tS256);
    expect((await credential.certificateInfo()).chainLength).toBe(3);
  });

  it("keeps the chain of a PFX, leaf first", async () => {
    const pfx = forgePfx(chained, [root, chained, intermediate], password);
    const credential = certificateCredential({ pfx, password, sendCertificateChain: true });
    const assertion = assertionOf(await credential.getAuthentication(ENTRA));
    await verifyAssertion(assertion, chained.x509, ENTRA, "PS256");
    expect(headerOf(assertion).x5c).toEqual([derOf(chained), derOf(intermediate), derOf(root)]);
  });

  it("does not send x5c unless asked", async () => {
    const credential = certificateCredential({ pem: chained.certificatePem + intermediate.certificatePem + chained.keyPem });
    expect(headerOf(assertionOf(await credential.getAuthentication(ENTRA))).x5c).toBeUndefined();
  });
});

describe("PFX / PKCS#12", () => {
  it("reads AES-256 and legacy 3DES archives written by node-forge", async () => {
    await expectSignsWith(certificateCredential({ pfx: forgePfx(leaf, [leaf], password, "aes256"), password }), leaf.x509);
    await expectSignsWith(certificateCredential({ pfx: forgePfx(leaf, [leaf], password, "3des"), password }), leaf.x509);
  });

  it("reads a PFX given as base64 text, and a .pfx file", async () => {
    const pfx = forgePfx(leaf, [leaf], password);
    await expectSignsWith(certificateCredential({ pfx: pfx.toString("base64"), password }), leaf.x509);

    const dir = await tempDir();
    await writeFile(join(dir, "app.pfx"), pfx, { mode: 0o600 });
    await expectSignsWith(certificateCredential({ path: join(dir, "app.pfx"), password }), leaf.x509);
    // Content sniffing, not the extension, decides the format.
    await writeFile(join(dir, "app-certificate"), pfx.toString("base64"), { mode: 0o600 });
    await expectSignsWith(certificateCredential({ path: join(dir, "app-certificate"), password }), leaf.x509);
  });

  it("reads a PFX without a password", async () => {
    await expectSignsWith(certificateCredential({ pfx: forgePfx(leaf, [leaf], null) }), leaf.x509);
  });

  it.runIf(hasOpenssl())("reads archives written by openssl: AES-256 (default), legacy RC2-40/3DES, and an empty password", async () => {
    await expectSignsWith(certificateCredential({ pfx: opensslPfx(leaf, password), password }), leaf.x509);
    await expectSignsWith(certificateCredential({ pfx: opensslPfx(leaf, password, true), password }), leaf.x509);
    await expectSignsWith(certificateCredential({ pfx: opensslPfx(leaf, "") }), leaf.x509);
    await expectSignsWith(certificateCredential({ pfx: opensslPfx(leaf, ""), password: "" }), leaf.x509);
  });
});

describe("EC keys", () => {
  it.runIf(hasOpenssl())("sign ES256 for generic servers and are refused for Entra ID", async () => {
    const ec = opensslEcPem();
    const certificate = new X509Certificate(ec.certificatePem);
    const credential = certificateCredential({ pem: ec.pem });
    const assertion = assertionOf(await credential.getAuthentication(GENERIC));
    const { header } = await verifyAssertion(assertion, certificate, GENERIC, "ES256");
    expect(header.x5t).toBe(expectedThumbprints(certificate).x5t);
    expect((await credential.certificateInfo()).key).toBe("ec");

    await expect(credential.getAuthentication(ENTRA)).rejects.toThrow(/Entra ID accepts RSA certificates only/);
    await expect(certificateCredential({ pem: ec.pem, algorithm: "RS256" }).getAuthentication(GENERIC)).rejects.toThrow(
      /needs an RSA key/,
    );
  });
});

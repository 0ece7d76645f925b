import { generateKeyPairSync } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { ConfigurationError, CredentialError } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { certificateCredential, type CertificateCredentialOptions } from "../src/index.js";
import { encryptedKeyPem, forgePfx, keyFragments, makeCertificate } from "./certificates.js";
import { ENTRA, tempDir } from "./helpers.js";

const DAY = 86_400_000;
const password = "s3cret-pfx-passw0rd";
const leaf = makeCertificate({ commonName: "daemon-auth errors" });
const other = makeCertificate({ commonName: "daemon-auth other", keyIndex: 1 });
const secrets = [password, ...keyFragments(leaf.keyPem)];

/** The error thrown by `run`, checked to be secret-free in its message, cause chain and inspect output. */
async function failure(run: () => unknown): Promise<Error> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(Error);
  const error = caught as Error;
  const printed = `${error.message}\n${inspect(error, { depth: 5 })}\n${JSON.stringify(error)}`;
  for (const secret of secrets) expect(printed).not.toContain(secret);
  return error;
}

describe("configuration errors", () => {
  const cases: Array<[string, CertificateCredentialOptions, RegExp]> = [
    ["no source", {}, /^certificateCredential: needs a certificate: pass 'path'/],
    ["two sources", { path: "a.pem", pem: "x" }, /^certificateCredential: takes one certificate source.*'path', 'pem'/],
    ["certificatePath alone", { certificatePath: "cert.pem" }, /^certificateCredential: 'certificatePath' and 'privateKeyPath' go together/],
    ["empty path", { path: " " }, /^certificateCredential: 'path' must be a non-empty file path/],
    ["unknown algorithm", { path: "a.pem", algorithm: "HS256" as "RS256" }, /^certificateCredential: 'algorithm' must be "PS256" or "RS256"/],
    ["unknown thumbprint", { path: "a.pem", thumbprint: "kid" as "x5t" }, /^certificateCredential: 'thumbprint' must be/],
    ["short lifetime", { path: "a.pem", assertionLifetimeMs: 10 }, /^certificateCredential: 'assertionLifetimeMs'/],
    ["margin above lifetime", { path: "a.pem", assertionLifetimeMs: 60_000, reuseMarginMs: 60_000 }, /^certificateCredential: 'reuseMarginMs'/],
    ["cache size", { path: "a.pem", assertionCacheSize: 0 }, /^certificateCredential: 'assertionCacheSize'/],
    ["check interval", { path: "a.pem", reloadCheckIntervalMs: -1 }, /^certificateCredential: 'reloadCheckIntervalMs'/],
    ["signer shape", { signer: { certificate: "x" } as never }, /^certificateCredential: 'signer' must be/],
    ["password with signer", { signer: { certificate: "x", sign: async () => new Uint8Array() }, password }, /^certificateCredential: 'password' has no effect with 'signer'/],
  ];
  it.each(cases)("%s", async (_name, options, message) => {
    const error = await failure(() => certificateCredential(options));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(message);
  });
});

describe("inline material fails at construction", () => {
  const cases: Array<[string, () => CertificateCredentialOptions, RegExp]> = [
    ["wrong PKCS#8 password", () => ({ pem: leaf.certificatePem + encryptedKeyPem(leaf.key, password, "pkcs8"), password: "nope" }), /password does not decrypt the private key in the `pem` option/],
    ["wrong legacy PEM password", () => ({ pem: leaf.certificatePem + encryptedKeyPem(leaf.key, password, "pkcs1"), password: "nope" }), /password does not decrypt/],
    ["encrypted PEM without password", () => ({ pem: leaf.certificatePem + encryptedKeyPem(leaf.key, password, "pkcs8") }), /is encrypted: pass its password/],
    ["wrong PFX password", () => ({ pfx: forgePfx(leaf, [leaf], password), password: "nope" }), /password does not open the PFX in the `pfx` option/],
    ["PFX without its password", () => ({ pfx: forgePfx(leaf, [leaf], password) }), /is password-protected: pass its password/],
    ["PFX without a key", () => ({ pfx: forgePfx(null, [leaf], password), password }), /No private key found in the `pfx` option/],
    ["PFX without a certificate", () => ({ pfx: forgePfx(leaf, [], password), password }), /The PFX in the `pfx` option holds no certificate/],
    ["PFX with another certificate's key", () => ({ pfx: forgePfx(other, [leaf], password), password }), /does not match its certificate/],
    ["garbage", () => ({ pfx: Buffer.from("this is not a certificate") }), /neither PEM nor PFX/],
    ["truncated PFX", () => ({ pfx: forgePfx(leaf, [leaf], password).subarray(0, 200), password }), /could not be decoded: it is truncated/],
    ["missing key", () => ({ pem: leaf.certificatePem }), /No private key found in the `pem` option.*`privateKeyPath`.*`signer`/],
    ["missing certificate", () => ({ pem: leaf.keyPem }), /No certificate found in the `pem` option/],
    ["key of another certificate", () => ({ pem: leaf.certificatePem + other.keyPem }), /does not match its certificate \(CN=daemon-auth errors, x5t#S256=/],
    ["two keys", () => ({ pem: leaf.certificatePem + leaf.keyPem + other.keyPem }), /holds 2 private keys/],
    ["OpenSSH key", () => ({ pem: `${leaf.certificatePem}-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n` }), /OPENSSH PRIVATE KEY.*not supported: convert it to PKCS#8/],
    ["signer without certificate", () => ({ signer: { certificate: "", sign: async () => new Uint8Array(1) } }), /No certificate found in the `signer.certificate` option/],
  ];
  it.each(cases)("%s", async (_name, options, message) => {
    const error = await failure(() => certificateCredential(options()));
    expect(error).toBeInstanceOf(CredentialError);
    expect(error.message).toMatch(message);
  });

  it("an RSA key under 2048 bits", async () => {
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    const error = await failure(() => certificateCredential({ pem: small.export({ type: "pkcs8", format: "pem" }).toString() + leaf.certificatePem }));
    expect(error.message).toMatch(/has 1024 bits: use a key of 2048 bits or more/);
  });

  it("an expired certificate: names the dates and says to rotate", async () => {
    const expired = makeCertificate({ commonName: "expired", notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const error = await failure(() => certificateCredential({ pem: expired.certificatePem + expired.keyPem }));
    expect(error).toBeInstanceOf(CredentialError);
    expect(error.message).toMatch(/The certificate CN=expired \(x5t#S256=[\w-]+\) from the `pem` option expired on \d{4}-\d\d-\d\dT/);
    expect(error.message).toMatch(/valid from .* to .*: rotate to a new certificate/);
  });

  it("a certificate that is not valid yet", async () => {
    const future = makeCertificate({ commonName: "future", notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) });
    const error = await failure(() => certificateCredential({ pem: future.certificatePem + future.keyPem }));
    expect(error).toBeInstanceOf(CredentialError);
    expect(error.message).toMatch(/is not valid before \d{4}-.*valid from .* to .*check the system clock/);
  });

  it("a certificate that expires while the process runs fails at use", async () => {
    let now = Date.now();
    const credential = certificateCredential({ pem: leaf.certificatePem + leaf.keyPem, clock: { now: () => now } });
    await credential.getAuthentication(ENTRA);
    now = new Date(leaf.x509.validTo).getTime() + 1000;
    const error = await failure(() => credential.getAuthentication(ENTRA));
    expect(error).toBeInstanceOf(CredentialError);
    expect(error.message).toMatch(/expired on .*rotate/);
  });
});

describe("files fail at first use, naming the file", () => {
  it("does not touch the file at construction", async () => {
    const dir = await tempDir();
    const credential = certificateCredential({ path: join(dir, "missing.pem") });
    expect(credential.description).toContain("missing.pem");
    expect(credential.thumbprints).toBeUndefined();
    const error = await failure(() => credential.getAuthentication(ENTRA));
    expect(error).toBeInstanceOf(CredentialError);
    expect(error.message).toMatch(/The certificate file ".*missing\.pem" \(`path`\) does not exist: check the path/);
  });

  it("a directory, an empty file, a wrong password, a missing key file", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "folder"));
    await writeFile(join(dir, "empty.pem"), "");
    await writeFile(join(dir, "app.pfx"), forgePfx(leaf, [leaf], password));
    await writeFile(join(dir, "cert.pem"), leaf.certificatePem);

    const isDirectory = await failure(() => certificateCredential({ path: join(dir, "folder") }).getAuthentication(ENTRA));
    expect(isDirectory.message).toMatch(/folder" \(`path`\) is a directory/);
    const empty = await failure(() => certificateCredential({ path: join(dir, "empty.pem") }).getAuthentication(ENTRA));
    expect(empty.message).toMatch(/empty\.pem" \(`path`\) is empty/);
    const wrong = await failure(() => certificateCredential({ path: join(dir, "app.pfx"), password: "nope" }).getAuthentication(ENTRA));
    expect(wrong.message).toMatch(/password does not open the PFX in file ".*app\.pfx"/);
    const noKeyFile = await failure(() =>
      certificateCredential({ certificatePath: join(dir, "cert.pem"), privateKeyPath: join(dir, "key.pem") }).getAuthentication(ENTRA),
    );
    expect(noKeyFile.message).toMatch(/key\.pem" \(`privateKeyPath`\) does not exist/);
    const keyInCertFile = await failure(() =>
      certificateCredential({ certificatePath: join(dir, "cert.pem"), privateKeyPath: join(dir, "cert.pem") }).getAuthentication(ENTRA),
    );
    expect(keyInCertFile.message).toMatch(/No private key found in file ".*cert\.pem"/);
  });

  it.skipIf(process.getuid?.() === 0)("an unreadable file", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "locked.pem"), leaf.certificatePem + leaf.keyPem);
    await chmod(join(dir, "locked.pem"), 0o000);
    const error = await failure(() => certificateCredential({ path: join(dir, "locked.pem") }).getAuthentication(ENTRA));
    expect(error.message).toMatch(/locked\.pem" \(`path`\) is not readable by this process/);
  });
});

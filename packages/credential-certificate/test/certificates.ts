// Test certificates, generated at test time: keys by node:crypto (fast), certificates
// and PKCS#12 archives by node-forge, a few PFX variants by the openssl CLI when present.
import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";

export interface TestCertificate {
  readonly key: KeyObject;
  readonly certificatePem: string;
  /** PKCS#8, unencrypted. */
  readonly keyPem: string;
  readonly x509: X509Certificate;
  readonly forgeCertificate: forge.pki.Certificate;
  readonly forgeKey: forge.pki.rsa.PrivateKey;
  readonly subject: string;
}

const DAY = 86_400_000;
const keyPool: KeyObject[] = [];

/** The n-th RSA 2048 key of a small pool shared by the tests of one file. */
export function rsaKey(index = 0): KeyObject {
  while (keyPool.length <= index) {
    keyPool.push(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);
  }
  return keyPool[index]!;
}

export interface CertificateSpec {
  readonly commonName?: string;
  readonly keyIndex?: number;
  readonly issuer?: TestCertificate;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly ca?: boolean;
}

export function makeCertificate(spec: CertificateSpec = {}): TestCertificate {
  const key = rsaKey(spec.keyIndex ?? 0);
  const forgeKey = forge.pki.privateKeyFromPem(key.export({ type: "pkcs1", format: "pem" }).toString());
  const publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  const subject = spec.commonName ?? "daemon-auth test";
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = publicKey;
  certificate.serialNumber = `01${randomBytes(8).toString("hex")}`;
  certificate.validity.notBefore = spec.notBefore ?? new Date(Date.now() - DAY);
  certificate.validity.notAfter = spec.notAfter ?? new Date(Date.now() + 30 * DAY);
  certificate.setSubject([{ name: "commonName", value: subject }]);
  certificate.setIssuer(spec.issuer ? spec.issuer.forgeCertificate.subject.attributes : [{ name: "commonName", value: subject }]);
  certificate.setExtensions([
    { name: "basicConstraints", cA: spec.ca ?? false },
    { name: "keyUsage", digitalSignature: true, keyCertSign: spec.ca ?? false },
  ]);
  certificate.sign(spec.issuer?.forgeKey ?? forgeKey, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(certificate);
  return {
    key,
    certificatePem,
    keyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
    x509: new X509Certificate(certificatePem),
    forgeCertificate: certificate,
    forgeKey,
    subject,
  };
}

/** A PKCS#12 archive written by node-forge (`leaf: null`: no key). `password: null` leaves the key unencrypted. */
export function forgePfx(
  leaf: TestCertificate | null,
  chain: readonly TestCertificate[],
  password: string | null,
  algorithm: "aes256" | "3des" = "aes256",
): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    leaf?.forgeKey ?? null,
    // forge wants `null`, not `[]`, for an archive without certificates.
    chain.length > 0 ? chain.map((certificate) => certificate.forgeCertificate) : (null as unknown as forge.pki.Certificate[]),
    password,
    { algorithm, count: 2048 },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}

let openssl: boolean | undefined;
/** True when the openssl CLI can be run. */
export function hasOpenssl(): boolean {
  if (openssl === undefined) {
    try {
      execFileSync("openssl", ["version"], { stdio: "ignore" });
      openssl = true;
    } catch {
      openssl = false;
    }
  }
  return openssl;
}

/** A PFX written by `openssl pkcs12 -export` (OpenSSL 3 defaults: AES-256-CBC + PBKDF2; `legacy`: RC2-40 + 3DES). */
export function opensslPfx(certificate: TestCertificate, password: string, legacy = false): Buffer {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "cert.pem"), certificate.certificatePem);
    writeFileSync(join(dir, "key.pem"), certificate.keyPem, { mode: 0o600 });
    const args = ["pkcs12", "-export", "-in", join(dir, "cert.pem"), "-inkey", join(dir, "key.pem")];
    args.push("-out", join(dir, "out.pfx"), "-passout", `pass:${password}`);
    if (legacy) args.push("-legacy");
    execFileSync("openssl", args, { stdio: "ignore" });
    return readFileSync(join(dir, "out.pfx"));
  });
}

/** A self-signed EC certificate (P-256) and its key, as PEM, made by the openssl CLI. */
export function opensslEcPem(): { pem: string; certificatePem: string } {
  return withTempDir((dir) => {
    const keyPath = join(dir, "key.pem");
    const certificatePath = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-out", certificatePath, "-subj", "/CN=ec test", "-days", "2"],
      { stdio: "ignore" },
    );
    const certificatePem = readFileSync(certificatePath, "utf8");
    return { pem: certificatePem + readFileSync(keyPath, "utf8"), certificatePem };
  });
}

/** The key as encrypted PEM: PKCS#8 `ENCRYPTED PRIVATE KEY`, or legacy PKCS#1 with `Proc-Type: 4,ENCRYPTED`. */
export function encryptedKeyPem(key: KeyObject, passphrase: string, type: "pkcs8" | "pkcs1"): string {
  return key.export({ type, format: "pem", cipher: "aes-256-cbc", passphrase }).toString();
}

/** The base64 body lines of a PEM key: text that must never show up in messages or logs. */
export function keyFragments(keyPem: string): string[] {
  const pem = createPrivateKey(keyPem).export({ type: "pkcs8", format: "pem" }).toString();
  return pem
    .split("\n")
    .filter((line) => line.length > 40 && !line.startsWith("-----"))
    .slice(1, 4);
}

function withTempDir<T>(run: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "daemon-auth-cert-"));
  try {
    return run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

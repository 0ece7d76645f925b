// The emulator's TLS material: a local CA and a server certificate signed by
// it, kept in a directory and reused across runs so that a user trusts the CA
// once (NODE_EXTRA_CA_CERTS) instead of on every start.
import { generateKeyPair, randomBytes, X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { lock } from "proper-lockfile";
import { CLOUD_CERTIFICATE_NAMES } from "./cloud-hosts.js";
import { buildCertificate, toPem } from "./x509.js";

const generateRsaKeyPair = promisify(generateKeyPair);
// RSA because the certificate builder signs with RSA; generated once per certificate directory.
const newKeyPair = (): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> => generateRsaKeyPair("rsa", { modulusLength: 2048 });

const DAY = 24 * 3600_000;
const CA_LIFETIME = 10 * 365 * DAY;
const SERVER_LIFETIME = 365 * DAY;
// Renew ahead of expiry so a long-running emulator or test run does not cross it.
const RENEW_BEFORE = 2 * DAY;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 60_000;
const LOCK_RETRY_MS = 50;

/** TLS material for the HTTPS server. */
export interface TlsMaterial {
  caCertificatePem: string;
  caCertificatePath: string;
  serverCertificatePem: string;
  serverKeyPem: string;
}

/**
 * Names every server certificate covers: loopback, the configured host, and the Microsoft
 * clouds' sign-in hosts with their regional subdomains, for clients that resolve those
 * names to the emulator (the CA is local and could sign them anyway; trusting it already
 * means trusting whatever it signs).
 */
export function serverNames(host: string): string[] {
  const names = ["localhost", "127.0.0.1", "::1"];
  const bare = host.replace(/^\[|\]$/g, "");
  if (bare !== "0.0.0.0" && bare !== "::" && !names.includes(bare.toLowerCase())) names.push(bare);
  return [...names, ...CLOUD_CERTIFICATE_NAMES];
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, content, { mode });
  // writeFile's mode is filtered by the umask; the key files must be 0600 regardless.
  await chmod(temporary, mode);
  await rename(temporary, path);
}

function usable(certificate: X509Certificate, now: number): boolean {
  return Date.parse(certificate.validFrom) <= now && Date.parse(certificate.validTo) - RENEW_BEFORE > now;
}

function covers(certificate: X509Certificate, names: readonly string[]): boolean {
  return names.every((name) =>
    // A wildcard name is covered when a name it stands for is.
    isIP(name) !== 0 ? certificate.checkIP(name) !== undefined : certificate.checkHost(name.replace(/^\*\./, "covered.")) !== undefined,
  );
}

interface LoadedPair {
  certificate: X509Certificate;
  key: KeyObject;
  certificatePem: string;
  keyPem: string;
}

async function loadPair(certificatePath: string, keyPath: string): Promise<LoadedPair | undefined> {
  const [certificatePem, keyPem] = await Promise.all([readOptional(certificatePath), readOptional(keyPath)]);
  if (certificatePem === undefined || keyPem === undefined) return undefined;
  try {
    const certificate = new X509Certificate(certificatePem);
    const key = createPrivateKey(keyPem);
    if (!certificate.checkPrivateKey(key)) return undefined;
    return { certificate, key, certificatePem, keyPem };
  } catch {
    // Unreadable or corrupted material is regenerated, not reported.
    return undefined;
  }
}

async function prepareDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if (typeof process.getuid === "function" && info.uid !== process.getuid()) {
    throw new Error(
      `The emulator certificate directory ${dir} belongs to another user. Pass certificateDir (CLI: --certificate-dir) with a directory of your own.`,
    );
  }
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

async function withLock<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const lockPath = join(dir, ".lock");
  let release: () => Promise<void>;
  try {
    // The lock is refreshed while held; one left by a crashed process goes stale after LOCK_STALE_MS.
    release = await lock(dir, {
      lockfilePath: lockPath,
      stale: LOCK_STALE_MS,
      retries: { retries: Math.ceil(LOCK_WAIT_MS / LOCK_RETRY_MS), factor: 1, minTimeout: LOCK_RETRY_MS, maxTimeout: LOCK_RETRY_MS, randomize: true },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    throw new Error(`Timed out waiting for the lock ${lockPath}. If no emulator is starting, delete that directory.`, { cause: error });
  }
  try {
    return await task();
  } finally {
    await release();
  }
}

/**
 * Loads the CA and server certificate from `dir`, creating or renewing
 * whatever is missing, unreadable, expiring or not covering `names`. A
 * directory lock keeps concurrent emulators from writing mismatched pairs.
 */
export async function loadOrCreateTlsMaterial(dir: string, names: readonly string[]): Promise<TlsMaterial> {
  await prepareDirectory(dir);
  const paths = {
    ca: join(dir, "ca.pem"),
    caKey: join(dir, "ca-key.pem"),
    server: join(dir, "server.pem"),
    serverKey: join(dir, "server-key.pem"),
  };
  return withLock(dir, async () => {
    const now = Date.now();
    let ca = await loadPair(paths.ca, paths.caKey);
    let server = await loadPair(paths.server, paths.serverKey);
    const current = (pair: LoadedPair | undefined, issuer: LoadedPair): pair is LoadedPair =>
      pair !== undefined &&
      pair.certificate.checkIssued(issuer.certificate) &&
      pair.certificate.verify(issuer.certificate.publicKey) &&
      usable(pair.certificate, now) &&
      covers(pair.certificate, names);
    // A CA from an earlier version has an EC key, which cannot sign a new server certificate: replace it then.
    if (ca === undefined || !ca.certificate.ca || !usable(ca.certificate, now) || (!current(server, ca) && ca.key.asymmetricKeyType !== "rsa")) {
      const { publicKey, privateKey } = await newKeyPair();
      const raw = buildCertificate({
        subject: "daemon-auth emulator local CA",
        publicKey,
        signingKey: privateKey,
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + CA_LIFETIME),
        isCa: true,
      });
      const certificatePem = toPem("CERTIFICATE", raw);
      const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      await writeAtomic(paths.caKey, keyPem, 0o600);
      await writeAtomic(paths.ca, certificatePem, 0o644);
      ca = { certificate: new X509Certificate(raw), key: privateKey, certificatePem, keyPem };
    }
    if (!current(server, ca)) {
      const { publicKey, privateKey } = await newKeyPair();
      const raw = buildCertificate({
        subject: "daemon-auth emulator",
        issuer: "daemon-auth emulator local CA",
        publicKey,
        issuerPublicKey: ca.certificate.publicKey,
        signingKey: ca.key,
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + SERVER_LIFETIME),
        altNames: names,
        extendedKeyUsage: ["serverAuth"],
      });
      const certificatePem = toPem("CERTIFICATE", raw);
      const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      await writeAtomic(paths.serverKey, keyPem, 0o600);
      await writeAtomic(paths.server, certificatePem, 0o644);
      server = { certificate: new X509Certificate(raw), key: privateKey, certificatePem, keyPem };
    }
    return {
      caCertificatePem: ca.certificatePem,
      caCertificatePath: paths.ca,
      serverCertificatePem: server.certificatePem,
      serverKeyPem: server.keyPem,
    };
  });
}

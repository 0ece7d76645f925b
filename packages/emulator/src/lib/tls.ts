// The emulator's TLS material: a local CA and a server certificate signed by
// it, kept in a directory and reused across runs so that a user trusts the CA
// once (NODE_EXTRA_CA_CERTS) instead of on every start.
import { generateKeyPair, randomBytes, X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { buildCertificate, toPem } from "./x509.js";

const generateEcKeyPair = promisify(generateKeyPair);
// P-256 keys: generated in milliseconds (RSA 2048 takes hundreds), and every TLS stack accepts them.
const newKeyPair = (): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> => generateEcKeyPair("ec", { namedCurve: "P-256" });

const DAY = 24 * 3600_000;
const CA_LIFETIME = 10 * 365 * DAY;
const SERVER_LIFETIME = 365 * DAY;
// Renew ahead of expiry so a long-running emulator or test run does not cross it.
const RENEW_BEFORE = 2 * DAY;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 60_000;

/** TLS material for the HTTPS server. */
export interface TlsMaterial {
  caCertificatePem: string;
  caCertificatePath: string;
  serverCertificatePem: string;
  serverKeyPem: string;
}

/** Names every server certificate covers, plus the configured host. */
export function serverNames(host: string): string[] {
  const names = ["localhost", "127.0.0.1", "::1"];
  const bare = host.replace(/^\[|\]$/g, "");
  if (bare !== "0.0.0.0" && bare !== "::" && !names.includes(bare.toLowerCase())) names.push(bare);
  return names;
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
    isIP(name) !== 0 ? certificate.checkIP(name) !== undefined : certificate.checkHost(name) !== undefined,
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
  const lock = join(dir, ".lock");
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const info = await stat(lock).catch(() => undefined);
      // A crashed process leaves its lock behind; generation takes well under the stale age.
      if (info !== undefined && Date.now() - info.mtimeMs > LOCK_STALE_MS) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for the lock ${lock}. If no emulator is starting, delete that directory.`, {
          cause: error,
        });
      }
      await sleep(25 + Math.random() * 50);
    }
  }
  try {
    return await task();
  } finally {
    await rm(lock, { recursive: true, force: true });
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
    if (ca === undefined || !ca.certificate.ca || !usable(ca.certificate, now)) {
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
    let server = await loadPair(paths.server, paths.serverKey);
    if (
      server === undefined ||
      !server.certificate.checkIssued(ca.certificate) ||
      !server.certificate.verify(ca.certificate.publicKey) ||
      !usable(server.certificate, now) ||
      !covers(server.certificate, names)
    ) {
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

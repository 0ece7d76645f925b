// The checked, defaulted settings of certificateCredential: every option error is
// raised here, in the dialect of @daemon-auth/core/adapter.
import { resolve } from "node:path";
import { optionChecks } from "@daemon-auth/core/adapter";
import type { CertificateCredentialOptions, CertificateSigner } from "../options.js";

const DEFAULTS = {
  assertionLifetimeMs: 600_000,
  reuseMarginMs: 120_000,
  assertionCacheSize: 10_000,
  reloadCheckIntervalMs: 10_000,
} as const;

/** The settings of one credential, checked. */
export interface Settings {
  readonly assertionLifetimeMs: number;
  readonly reuseMarginMs: number;
  readonly assertionCacheSize: number;
  readonly reloadCheckIntervalMs: number;
  /** The source, for the description before a file is loaded. */
  readonly sourceLabel: string;
}

const ALGORITHMS = new Set(["PS256", "RS256"]);
const THUMBPRINTS = new Set(["x5t#S256", "x5t", "both"]);

export function validateOptions(options: CertificateCredentialOptions): Settings {
  const check = optionChecks("certificateCredential");
  if (typeof options !== "object" || options === null) {
    throw check.error("pass options: { path }, { pem }, { pfx } or { signer }.");
  }
  const given = (["path", "certificatePath", "privateKeyPath", "pem", "pfx", "signer"] as const).filter((name) => options[name] !== undefined);
  const pair = given.includes("certificatePath") || given.includes("privateKeyPath");
  const sources = given.filter((name) => name !== "certificatePath" && name !== "privateKeyPath").length + (pair ? 1 : 0);
  if (sources === 0) {
    throw check.error("needs a certificate: pass 'path' (PEM or PFX file), 'certificatePath' + 'privateKeyPath', 'pem', 'pfx' or 'signer'.");
  }
  if (sources > 1) {
    throw check.error(`takes one certificate source, but got ${given.map((name) => `'${name}'`).join(", ")}: keep one.`);
  }
  if (pair && (options.certificatePath === undefined || options.privateKeyPath === undefined)) {
    throw check.error("'certificatePath' and 'privateKeyPath' go together: pass both, or use 'path' for one file holding the certificate and the key.");
  }
  for (const name of ["path", "certificatePath", "privateKeyPath"] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "string" || value.trim() === "")) {
      throw check.error(`'${name}' must be a non-empty file path.`);
    }
  }
  if (options.pem !== undefined && typeof options.pem !== "string" && !(options.pem instanceof Uint8Array)) {
    throw check.error("'pem' must be PEM text (a string) or its bytes (a Buffer or Uint8Array).");
  }
  if (options.pfx !== undefined && typeof options.pfx !== "string" && !(options.pfx instanceof Uint8Array)) {
    throw check.error("'pfx' must be the PFX bytes (a Buffer or Uint8Array) or base64 text.");
  }
  if (options.password !== undefined && typeof options.password !== "string") {
    throw check.error("'password' must be a string.");
  }
  if (options.signer !== undefined) {
    const signer = options.signer as Partial<CertificateSigner> | null;
    if (typeof signer !== "object" || signer === null || typeof signer.certificate !== "string" || typeof signer.sign !== "function") {
      throw check.error("'signer' must be { certificate: <PEM chain>, sign(input, algorithm) }.");
    }
    if (options.password !== undefined) {
      throw check.error("'password' has no effect with 'signer': the signer holds the key. Remove 'password'.");
    }
  }
  if (options.algorithm !== undefined && !ALGORITHMS.has(options.algorithm)) {
    throw check.error(`'algorithm' must be "PS256" or "RS256", not ${JSON.stringify(options.algorithm)}.`);
  }
  if (options.thumbprint !== undefined && !THUMBPRINTS.has(options.thumbprint)) {
    throw check.error(`'thumbprint' must be "x5t#S256", "x5t" or "both", not ${JSON.stringify(options.thumbprint)}.`);
  }
  const assertionLifetimeMs = options.assertionLifetimeMs ?? DEFAULTS.assertionLifetimeMs;
  if (!Number.isFinite(assertionLifetimeMs) || assertionLifetimeMs < 1000) {
    throw check.error("'assertionLifetimeMs' must be a finite number of milliseconds, at least 1000 (Entra ID accepts at most 600000).");
  }
  const reuseMarginMs = options.reuseMarginMs ?? Math.min(DEFAULTS.reuseMarginMs, assertionLifetimeMs / 2);
  if (!Number.isFinite(reuseMarginMs) || reuseMarginMs < 0 || reuseMarginMs >= assertionLifetimeMs) {
    throw check.error("'reuseMarginMs' must be at least 0 and less than 'assertionLifetimeMs'.");
  }
  const assertionCacheSize = check.positiveInteger("assertionCacheSize", options.assertionCacheSize, DEFAULTS.assertionCacheSize);
  const reloadCheckIntervalMs = options.reloadCheckIntervalMs ?? DEFAULTS.reloadCheckIntervalMs;
  if (typeof reloadCheckIntervalMs !== "number" || Number.isNaN(reloadCheckIntervalMs) || reloadCheckIntervalMs < 0) {
    throw check.error("'reloadCheckIntervalMs' must be a number of milliseconds ≥ 0 (or Infinity to check only on reload).");
  }
  const sourceLabel =
    options.path !== undefined
      ? `file "${resolve(options.path)}"`
      : options.certificatePath !== undefined
        ? `file "${resolve(options.certificatePath)}"`
        : (given[0] ?? "certificate");
  return { assertionLifetimeMs, reuseMarginMs, assertionCacheSize, reloadCheckIntervalMs, sourceLabel };
}

// The emulated vault's certificates: each version is a key pair made by the
// vault (a managed, non-exportable key of the same name and version), an X.509
// certificate for it, and the secret Key Vault publishes beside it — without the
// private key unless the policy made the key exportable, as Key Vault documents.
import { createHash } from "node:crypto";
import forge from "node-forge";
import type { KeyVault } from "../routes/key-vault.js";
import { newVaultVersion } from "./vault-auth.js";
import { VaultVersions } from "./vault-versions.js";
import type { VaultKeys } from "./vault-keys.js";
import { buildCertificate, toPem } from "./x509.js";

/** The parts of a certificate policy the emulator honours (Key Vault's wire names). */
export interface VaultCertificatePolicy {
  /** Subject, `CN=…`. */
  readonly subject: string;
  /** @default 12 */
  readonly validityMonths: number;
  /** @default 2048 */
  readonly keySize: number;
  /** @default false: the private key never leaves the vault */
  readonly exportable: boolean;
  /** @default "application/x-pkcs12" */
  readonly contentType: "application/x-pkcs12" | "application/x-pem-file";
}

/** One version of a certificate (public parts only). */
export interface VaultCertificateVersion {
  readonly name: string;
  readonly version: string;
  readonly der: Buffer;
  readonly policy: VaultCertificatePolicy;
  readonly created: number;
  readonly notBefore: number;
  readonly notAfter: number;
  enabled: boolean;
}

const SELF = "Self";

/** Reads a policy in Key Vault's wire shape (`x509_props`, `key_props`, `secret_props`, `issuer`); a string is what is wrong. */
export function readPolicy(name: string, wire: unknown): VaultCertificatePolicy | string {
  const policy = (typeof wire === "object" && wire !== null ? wire : {}) as Record<string, Record<string, unknown> | undefined>;
  const issuer = policy["issuer"]?.["name"] ?? SELF;
  if (issuer !== SELF) return `The emulator's vault issues self-signed certificates only: set the policy's issuerName to "Self" (got ${JSON.stringify(issuer)}).`;
  const key = policy["key_props"] ?? {};
  if (key["kty"] !== undefined && key["kty"] !== "RSA" && key["kty"] !== "RSA-HSM") return "The emulator's vault makes RSA certificate keys only (Entra ID accepts RSA certificates only).";
  const keySize = key["key_size"] ?? 2048;
  if (keySize !== 2048 && keySize !== 3072 && keySize !== 4096) return "key_size must be 2048, 3072 or 4096.";
  const subject = policy["x509_props"]?.["subject"] ?? `CN=${name}`;
  if (typeof subject !== "string" || subject.trim() === "") return "The policy needs a subject such as \"CN=orders-daemon\".";
  const validityMonths = policy["x509_props"]?.["validity_months"] ?? 12;
  if (typeof validityMonths !== "number" || !Number.isInteger(validityMonths) || validityMonths < 1 || validityMonths > 1200) return "validity_months must be a whole number of months from 1 to 1200.";
  const contentType = policy["secret_props"]?.["contentType"] ?? "application/x-pkcs12";
  if (contentType !== "application/x-pkcs12" && contentType !== "application/x-pem-file") return "secret_props.contentType must be application/x-pkcs12 or application/x-pem-file.";
  return { subject, validityMonths, keySize, exportable: key["exportable"] === true, contentType };
}

/** The policy in Key Vault's wire shape. */
export function policyJson(baseUrl: string, name: string, policy: VaultCertificatePolicy): Record<string, unknown> {
  return {
    id: `${baseUrl}/certificates/${name}/policy`,
    key_props: { exportable: policy.exportable, kty: "RSA", key_size: policy.keySize, reuse_key: false },
    secret_props: { contentType: policy.contentType },
    x509_props: { subject: policy.subject, ekus: ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], key_usage: ["digitalSignature", "keyEncipherment"], validity_months: policy.validityMonths },
    lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: "EmailContacts" } }],
    issuer: { name: SELF },
    attributes: { enabled: true },
  };
}

/** `CN=orders, O=x` → `orders`: the common name the certificate gets. */
function commonName(subject: string): string {
  return /(?:^|[,;]\s*)CN=([^,;]+)/i.exec(subject)?.[1]?.trim() ?? subject;
}

/** The base64url SHA-1 thumbprint Key Vault answers as `x5t`. */
export function x5tOf(der: Buffer): string {
  return createHash("sha1").update(der).digest("base64url");
}

/** Every certificate of the vault, by lower-cased name, oldest version first. */
export class VaultCertificates {
  private readonly certificates = new VaultVersions<VaultCertificateVersion>();

  constructor(
    private readonly keys: VaultKeys,
    private readonly secrets: KeyVault,
    private readonly clock: () => number,
  ) {}

  /** Makes a new version: a new key in the vault, a certificate for it and its secret. */
  async create(name: string, policy: VaultCertificatePolicy): Promise<VaultCertificateVersion> {
    const version = newVaultVersion();
    const key = await this.keys.create(name, { size: policy.keySize, version, managed: true });
    const now = this.clock();
    const notBefore = new Date(Math.floor(now / 1000) * 1000 - 60_000);
    const notAfter = new Date(notBefore);
    notAfter.setUTCMonth(notAfter.getUTCMonth() + policy.validityMonths);
    const der = buildCertificate({
      subject: commonName(policy.subject),
      publicKey: key.publicKey,
      signingKey: key.privateKey,
      notBefore,
      notAfter,
      extendedKeyUsage: ["serverAuth", "clientAuth"],
    });
    const entry: VaultCertificateVersion = { name, version, der, policy, created: Math.floor(now / 1000), notBefore: notBefore.getTime() / 1000, notAfter: notAfter.getTime() / 1000, enabled: true };
    this.secrets.set(name, secretValue(entry, policy.exportable ? key.privateKey.export({ type: "pkcs8", format: "pem" }).toString() : undefined), { contentType: policy.contentType }, "name", {
      version,
      publicOnly: !policy.exportable,
    });
    return this.certificates.add(name, entry);
  }

  /** The version asked for, or the newest one. */
  find(name: string, version?: string): VaultCertificateVersion | undefined {
    return this.certificates.find(name, version);
  }

  /** Every version, oldest first. */
  versions(name: string): readonly VaultCertificateVersion[] {
    return this.certificates.versions(name);
  }

  /** Disables one version (and its key): reading it answers 403 as Key Vault does. */
  disable(name: string, version: string): boolean {
    if (version === "") return false;
    const found = this.find(name, version);
    const key = this.keys.find(name, version);
    if (found === undefined) return false;
    found.enabled = false;
    if (key !== undefined) key.enabled = false;
    return true;
  }
}

// The secret beside a certificate: PEM or PFX (base64), with the private key only when exportable.
function secretValue(entry: VaultCertificateVersion, privateKeyPem: string | undefined): string {
  const certificatePem = toPem("CERTIFICATE", entry.der);
  if (entry.policy.contentType === "application/x-pem-file") return privateKeyPem === undefined ? certificatePem : `${privateKeyPem}${certificatePem}`;
  const certificate = forge.pki.certificateFromPem(certificatePem);
  const key = privateKeyPem === undefined ? null : forge.pki.privateKeyFromPem(privateKeyPem);
  const pfx = forge.pkcs12.toPkcs12Asn1(key, [certificate], null, { algorithm: "aes256" });
  return Buffer.from(forge.asn1.toDer(pfx).getBytes(), "binary").toString("base64");
}

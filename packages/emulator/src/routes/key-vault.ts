// A minimal Azure Key Vault secrets data plane, served by the emulator at its
// own origin (as a vault is at https://{name}.vault.azure.net), so the real
// `SecretClient` can read secrets with tokens the emulator itself issued.
// Paths: GET /secrets, GET /secrets/{name}[/{version}], GET /secrets/{name}/versions,
// PUT /secrets/{name}. Errors use Key Vault's `{ error: { code, message } }` shape.
import { EmulatorConfigError } from "../config/error.js";
import type { Directory } from "../lib/directory.js";
import { recordSecret } from "../lib/secret-ledger.js";
import type { TokenSigner } from "../lib/signing-key.js";
import { isAnswer, newVaultVersion, VAULT_OBJECT_NAME as NAME, vaultAnswer as answer, vaultError, VaultGate, vaultJsonBody } from "../lib/vault-auth.js";
import type { Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import type { EmulatorRequest } from "../server/request.js";
import { readPolicy, VaultCertificates } from "../lib/vault-certificates.js";
import { VaultKeys } from "../lib/vault-keys.js";
import { toPem } from "../lib/x509.js";
import { certificateThumbprints } from "../certificate.js";
import { X509Certificate } from "node:crypto";
import { KeyVaultCertificatesRoute } from "./key-vault-certificates.js";
import { KeyVaultKeysRoute } from "./key-vault-keys.js";

export { KEY_VAULT_RESOURCE } from "../lib/vault-auth.js";

/** A secret the vault starts with (its first version). */
export interface KeyVaultSecretConfig {
  /** The secret's value. */
  value: string;
  /** A free-form content type, e.g. `application/x-pkcs12` for a certificate's PFX (base64). */
  contentType?: string;
}

/** The emulated Key Vault. */
export interface KeyVaultOptions {
  /**
   * Secrets by name (1–127 letters, digits and dashes); each starts with one enabled version.
   * @default no secrets
   */
  secrets?: Record<string, KeyVaultSecretConfig>;
  /**
   * Id of the tenant the vault belongs to: named in the `WWW-Authenticate` challenge,
   * and only tokens of that tenant are accepted.
   * @default the first tenant of the emulator's config
   */
  tenant?: string;
  /**
   * Key permissions by client id (the token's `azp`): a listed client may only do the
   * listed key operations (`get` covers reading keys and certificates); others get 403
   * `ForbiddenByRbac` as from Key Vault's RBAC. Unlisted clients may do everything.
   * @default every client may do everything
   */
  keyPermissions?: Record<string, readonly VaultKeyPermission[]>;
}

/** A key operation a client may be allowed, for {@link KeyVaultOptions.keyPermissions}. */
export type VaultKeyPermission = "get" | "sign" | "verify" | "create";

/** Options of `emulator.setVaultSecret`. */
export interface SetVaultSecretOptions {
  contentType?: string;
  /** @default true */
  enabled?: boolean;
}

/** Options of `emulator.createVaultCertificate`: the certificate policy, in short. */
export interface CreateVaultCertificateOptions {
  /** @default `CN={name}` */
  subject?: string;
  /** @default 12 */
  validityMonths?: number;
  /** @default 2048 */
  keySize?: 2048 | 3072 | 4096;
  /**
   * Whether the private key may leave the vault (in the certificate's secret). Key Vault's
   * own default is `true`; the emulator keeps keys in the vault unless told.
   * @default false
   */
  exportable?: boolean;
  /** The content type of the certificate's secret. @default "application/x-pkcs12" */
  contentType?: "application/x-pkcs12" | "application/x-pem-file";
}

/** A certificate version the emulated vault made: its public parts only. */
export interface VaultCertificateInfo {
  readonly name: string;
  readonly version: string;
  /** The certificate, PEM: register it on an app (`emulator.addCertificate`). */
  readonly certificatePem: string;
  /** base64url SHA-1 thumbprint (`x5t`). */
  readonly x5t: string;
  /** base64url SHA-256 thumbprint (`x5t#S256`). */
  readonly x5tS256: string;
}

interface SecretVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType: string | undefined;
  enabled: boolean;
  readonly created: number;
  updated: number;
  /** A certificate's secret: its key has the same name and version. */
  readonly managed: boolean;
}

function error(status: number, code: string, message: string, headers: Record<string, string> = {}): Answer {
  return vaultError(status, code, message, { headers });
}

/** The emulator's in-memory vault, served at `/secrets…`. */
export class KeyVault implements Route {
  private readonly secrets = new Map<string, SecretVersion[]>();
  /** The api-version and bearer token check every vault route shares. */
  readonly gate: VaultGate;
  /** `/keys…`: RSA keys that never leave the emulator, with sign and verify. */
  readonly keys: KeyVaultKeysRoute;
  /** `/certificates…`: self-signed certificates whose keys are vault keys. */
  readonly certificates: KeyVaultCertificatesRoute;
  private readonly certificateStore: VaultCertificates;

  constructor(
    options: KeyVaultOptions | undefined,
    signer: TokenSigner,
    private readonly clock: () => number,
    directory: Directory,
  ) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new EmulatorConfigError("keyVault", "must be an object such as { secrets: { name: { value } } }.");
    }
    this.gate = new VaultGate(options?.tenant, signer, directory);
    const keys = new VaultKeys(clock);
    this.certificateStore = new VaultCertificates(keys, this, clock);
    this.keys = new KeyVaultKeysRoute(this.gate, keys, options?.keyPermissions);
    this.certificates = new KeyVaultCertificatesRoute(this.gate, this.certificateStore, options?.keyPermissions);
    for (const [name, secret] of Object.entries(options?.secrets ?? {})) {
      if (typeof secret !== "object" || secret === null || typeof secret.value !== "string") {
        throw new EmulatorConfigError(`keyVault.secrets.${name}`, "must be an object with a string value, e.g. { value: \"…\" }.");
      }
      this.set(name, secret.value, secret.contentType === undefined ? {} : { contentType: secret.contentType }, `keyVault.secrets.${name}`);
    }
  }

  /**
   * Adds a new version of the secret and returns its version id. A certificate's
   * secret is `managed` by it: same name and version, `kid` naming its key; a
   * non-exportable certificate's secret holds only the public certificate.
   */
  set(name: string, value: string, options: SetVaultSecretOptions = {}, field = "name", managedBy?: { version: string; publicOnly: boolean }): string {
    if (managedBy?.publicOnly !== true) recordSecret("vault secret", value);
    if (!NAME.test(name)) {
      throw new EmulatorConfigError(field, `'${name}' is not a Key Vault secret name: use 1 to 127 letters, digits and dashes.`);
    }
    if (typeof value !== "string") throw new EmulatorConfigError(field, "the secret value must be a string.");
    const now = Math.floor(this.clock() / 1000);
    const version = managedBy?.version ?? newVaultVersion();
    const versions = this.secrets.get(name.toLowerCase()) ?? [];
    versions.push({ version, value, contentType: options.contentType, enabled: options.enabled ?? true, created: now, updated: now, managed: managedBy !== undefined });
    this.secrets.set(name.toLowerCase(), versions);
    return version;
  }

  /** Makes a new version of a certificate (a rotation when it exists): a new non-exportable key and a self-signed certificate. */
  async createCertificate(name: string, options: CreateVaultCertificateOptions = {}): Promise<VaultCertificateInfo> {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new EmulatorConfigError("name", `'${String(name)}' is not a Key Vault certificate name: use 1 to 127 letters, digits and dashes.`);
    }
    const policy = readPolicy(name, {
      issuer: { name: "Self" },
      key_props: { kty: "RSA", key_size: options.keySize, exportable: options.exportable },
      x509_props: { subject: options.subject ?? `CN=${name}`, validity_months: options.validityMonths },
      secret_props: { contentType: options.contentType },
    });
    if (typeof policy === "string") throw new EmulatorConfigError("options", policy);
    const entry = await this.certificateStore.create(name, policy);
    const prints = certificateThumbprints(new X509Certificate(entry.der));
    return { name, version: entry.version, certificatePem: toPem("CERTIFICATE", entry.der), x5t: prints.x5t, x5tS256: prints.x5tS256 };
  }

  /** Disables one version; a disabled version cannot be read. */
  disable(name: string, version: string): void {
    const found = this.secrets.get(name.toLowerCase())?.find((entry) => entry.version === version.toLowerCase());
    if (found === undefined) {
      throw new EmulatorConfigError("version", `the vault has no version '${version}' of secret '${name}'; use the version setVaultSecret returned.`);
    }
    found.enabled = false;
    found.updated = Math.floor(this.clock() / 1000);
  }

  private bundle(baseUrl: string, name: string, entry: SecretVersion, withValue: boolean): Record<string, unknown> {
    return {
      ...(withValue ? { value: entry.value } : {}),
      id: `${baseUrl}/secrets/${name}/${entry.version}`,
      ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
      ...(entry.managed ? { kid: `${baseUrl}/keys/${name}/${entry.version}`, managed: true } : {}),
      attributes: {
        enabled: entry.enabled,
        created: entry.created,
        updated: entry.updated,
        recoveryLevel: "Recoverable+Purgeable",
        recoverableDays: 90,
      },
      tags: {},
    };
  }

  /** Answers one request to `/secrets…`. */
  async handle(request: EmulatorRequest): Promise<Answer> {
    const caller = await this.gate.admit(request);
    if (isAnswer(caller)) return caller;
    const { method, baseUrl } = request;
    const segments = request.segments.slice(1);
    const [name, version, ...extra] = segments;

    if (name === undefined) {
      if (method !== "GET") return error(405, "BadParameter", `${method} is not supported on /secrets.`);
      const value = [...this.secrets.entries()].flatMap(([key, versions]) => {
        const latest = versions.at(-1);
        if (latest === undefined) return [];
        const item = this.bundle(baseUrl, key, latest, false);
        return [{ ...item, id: `${baseUrl}/secrets/${key}` }];
      });
      return answer(200, { value, nextLink: null });
    }
    const versions = this.secrets.get(name.toLowerCase());
    const notFound = (): Answer =>
      error(404, "SecretNotFound", `A secret with (name/id) ${name}${version === undefined || version === "versions" ? "" : `/${version}`} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`);

    if (method === "PUT" && version === undefined) {
      const read = await vaultJsonBody(request, '{ "value": "…" }');
      if (isAnswer(read)) return read;
      const body = read.fields;
      const parsed = body as { value?: unknown; contentType?: unknown; attributes?: { enabled?: unknown } };
      if (typeof parsed.value !== "string") return error(400, "BadParameter", "Property 'value' is required and must be a string.");
      if (!NAME.test(name)) return error(400, "BadParameter", "The secret name must be 1 to 127 letters, digits and dashes.");
      const created = this.set(name, parsed.value, {
        ...(typeof parsed.contentType === "string" ? { contentType: parsed.contentType } : {}),
        ...(typeof parsed.attributes?.enabled === "boolean" ? { enabled: parsed.attributes.enabled } : {}),
      });
      const entry = this.secrets.get(name.toLowerCase())?.find((candidate) => candidate.version === created);
      return answer(200, entry === undefined ? {} : this.bundle(baseUrl, name, entry, true));
    }
    if (method !== "GET" || extra.length > 0) return error(405, "BadParameter", `${method} is not supported on /secrets/${segments.join("/")}.`);
    if (versions === undefined) return notFound();

    if (version === "versions") {
      const value = versions.map((entry) => this.bundle(baseUrl, name, entry, false));
      return answer(200, { value, nextLink: null });
    }
    const entry = version === undefined || version === "" ? versions.at(-1) : versions.find((candidate) => candidate.version === version.toLowerCase());
    if (entry === undefined) return notFound();
    if (!entry.enabled) {
      return answer(403, { error: { code: "Forbidden", message: "Operation get is not allowed on a disabled secret.", innererror: { code: "SecretDisabled" } } });
    }
    return answer(200, this.bundle(baseUrl, name, entry, true));
  }
}

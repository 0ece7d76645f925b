// A minimal Azure Key Vault secrets data plane, served by the emulator at its
// own origin (as a vault is at https://{name}.vault.azure.net), so the real
// `SecretClient` can read secrets with tokens the emulator itself issued.
// Paths: GET /secrets, GET /secrets/{name}[/{version}], GET /secrets/{name}/versions,
// PUT /secrets/{name}. Errors use Key Vault's `{ error: { code, message } }` shape.
import { randomBytes } from "node:crypto";
import { importJWK, jwtVerify } from "jose";
import { EmulatorConfigError } from "../config/error.js";
import type { Directory } from "../lib/directory.js";
import { recordSecret } from "../lib/secret-ledger.js";
import type { TokenSigner } from "../lib/signing-key.js";
import { json, NO_STORE, requestId, type Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import type { EmulatorRequest } from "../server/request.js";

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
}

/** Options of `emulator.setVaultSecret`. */
export interface SetVaultSecretOptions {
  contentType?: string;
  /** @default true */
  enabled?: boolean;
}

/** The resource (audience) of Key Vault tokens. */
export const KEY_VAULT_RESOURCE = "https://vault.azure.net";
// Key Vault's first-party application id: a token may carry it as `aud` too.
const KEY_VAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";
const AUDIENCES = [KEY_VAULT_RESOURCE, `${KEY_VAULT_RESOURCE}/`, KEY_VAULT_APP_ID];
const NAME = /^[0-9a-zA-Z-]{1,127}$/;

interface SecretVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType: string | undefined;
  enabled: boolean;
  readonly created: number;
  updated: number;
}

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return json(status, body, { ...NO_STORE, "x-ms-request-id": requestId(), ...headers });
}

function error(status: number, code: string, message: string, headers: Record<string, string> = {}): Answer {
  return answer(status, { error: { code, message } }, headers);
}

/** The emulator's in-memory vault, served at `/secrets…`. */
export class KeyVault implements Route {
  private readonly secrets = new Map<string, SecretVersion[]>();
  private verificationKey: ReturnType<typeof importJWK> | undefined;

  constructor(
    options: KeyVaultOptions | undefined,
    private readonly signer: TokenSigner,
    private readonly clock: () => number,
    private readonly directory: Directory,
  ) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new EmulatorConfigError("keyVault", "must be an object such as { secrets: { name: { value } } }.");
    }
    this.tenant = options?.tenant;
    for (const [name, secret] of Object.entries(options?.secrets ?? {})) {
      if (typeof secret !== "object" || secret === null || typeof secret.value !== "string") {
        throw new EmulatorConfigError(`keyVault.secrets.${name}`, "must be an object with a string value, e.g. { value: \"…\" }.");
      }
      this.set(name, secret.value, secret.contentType === undefined ? {} : { contentType: secret.contentType }, `keyVault.secrets.${name}`);
    }
  }

  private readonly tenant: string | undefined;

  /** Adds a new version of the secret and returns its version id. */
  set(name: string, value: string, options: SetVaultSecretOptions = {}, field = "name"): string {
    recordSecret("vault secret", value);
    if (!NAME.test(name)) {
      throw new EmulatorConfigError(field, `'${name}' is not a Key Vault secret name: use 1 to 127 letters, digits and dashes.`);
    }
    if (typeof value !== "string") throw new EmulatorConfigError(field, "the secret value must be a string.");
    const now = Math.floor(this.clock() / 1000);
    const version = randomBytes(16).toString("hex");
    const versions = this.secrets.get(name.toLowerCase()) ?? [];
    versions.push({ version, value, contentType: options.contentType, enabled: options.enabled ?? true, created: now, updated: now });
    this.secrets.set(name.toLowerCase(), versions);
    return version;
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

  private tenantId(): string {
    const configured = this.tenant === undefined ? undefined : (this.directory.resolveTenant(this.tenant)?.id ?? this.tenant);
    return configured ?? this.directory.tenantIds()[0] ?? "organizations";
  }

  private challenge(baseUrl: string): Record<string, string> {
    // keyvault-common splits the header on spaces: no value may contain one.
    return { "WWW-Authenticate": `Bearer authorization="${baseUrl}/${this.tenantId()}", resource="${KEY_VAULT_RESOURCE}"` };
  }

  private async authenticate(request: EmulatorRequest): Promise<Answer | undefined> {
    const challenge = this.challenge(request.baseUrl);
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
    if (match?.[1] === undefined) return error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", challenge);
    this.verificationKey ??= importJWK({ ...this.signer.jwk() }, "RS256");
    try {
      const { payload } = await jwtVerify(match[1], await this.verificationKey, {
        algorithms: ["RS256"],
        audience: AUDIENCES,
        currentDate: new Date(request.now),
      });
      const tenantId = this.tenantId();
      if (payload.iss !== `${request.baseUrl}/${String(payload.tid)}/v2.0` || payload.tid !== tenantId) {
        return error(401, "Unauthorized", `AKV10032: Invalid issuer. Expected a token of tenant ${tenantId} issued by this emulator.`, challenge);
      }
    } catch (cause) {
      const reason = cause instanceof Error && "code" in cause ? String(cause.code) : "invalid token";
      return error(401, "Unauthorized", `AKV10022: The access token is not valid for this vault (${reason}); request a token for ${KEY_VAULT_RESOURCE}/.default from this emulator.`, challenge);
    }
    return undefined;
  }

  private bundle(baseUrl: string, name: string, entry: SecretVersion, withValue: boolean): Record<string, unknown> {
    return {
      ...(withValue ? { value: entry.value } : {}),
      id: `${baseUrl}/secrets/${name}/${entry.version}`,
      ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
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
    if ((request.query.get("api-version") ?? "") === "") {
      return error(400, "BadParameter", "The request URI contains no api-version; add ?api-version=7.5 (the Azure SDKs do).");
    }
    const denied = await this.authenticate(request);
    if (denied !== undefined) return denied;
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
      const text = await request.text();
      let body: unknown;
      try {
        body = JSON.parse(text ?? "");
      } catch {
        return error(400, "BadParameter", "The request body must be JSON such as { \"value\": \"…\" }.");
      }
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

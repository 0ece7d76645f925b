// Azure Key Vault's keys data plane, enough for `KeyClient` (getKey, createRsaKey,
// listPropertiesOfKeyVersions) and `CryptographyClient` (sign, verify):
// GET /keys/{name}[/{version}], GET /keys/{name}/versions, POST /keys/{name}/create,
// POST /keys/{name}/{version}/sign and …/verify. Keys are non-exportable: answers
// carry the public JWK only.
import type { EmulatorRequest } from "../server/request.js";
import type { Answer } from "../server/answer.js";
import { GatedVaultRoute, isAnswer, VAULT_OBJECT_NAME, vaultAnswer, vaultError, vaultJsonBody, type VaultCaller, type VaultGate, type VaultPermissions } from "../lib/vault-auth.js";
import { digestFits, publicJwk, signDigest, VAULT_SIGN_ALGORITHMS, verifyDigest, type VaultKeyVersion, type VaultKeys, type VaultSignAlgorithm } from "../lib/vault-keys.js";
import type { VaultKeyPermission } from "./key-vault.js";

const OPERATIONS = new Set(["sign", "verify"]);

/** Key Vault's key bundle: the public JWK and the attributes. */
export function keyBundle(baseUrl: string, key: VaultKeyVersion): Record<string, unknown> {
  return {
    key: publicJwk(key, `${baseUrl}/keys/${key.name}/${key.version}`),
    attributes: { enabled: key.enabled, created: key.created, updated: key.created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90, exportable: false },
    ...(key.managed ? { managed: true } : {}),
    tags: {},
  };
}

function decode(value: unknown): Buffer | undefined {
  return typeof value === "string" && /^[A-Za-z0-9_-]+={0,2}$/.test(value) ? Buffer.from(value, "base64url") : undefined;
}

/** The emulated vault's `/keys…` routes. */
export class KeyVaultKeysRoute extends GatedVaultRoute {
  constructor(
    gate: VaultGate,
    private readonly keys: VaultKeys,
    permissions: VaultPermissions,
  ) {
    super(gate, permissions);
  }

  protected async serve(request: EmulatorRequest, caller: VaultCaller): Promise<Answer> {
    const [, name, second, third, ...extra] = request.segments;
    const { method, baseUrl } = request;
    if (name === undefined || !VAULT_OBJECT_NAME.test(name) || extra.length > 0) {
      return vaultError(400, "BadParameter", "Use /keys/{name}[/{version}], /keys/{name}/versions, /keys/{name}/create or /keys/{name}/{version}/sign|verify.");
    }
    const denied = (operation: VaultKeyPermission, action: string): Answer | undefined =>
      this.denied(caller, operation, `Microsoft.KeyVault/vaults/keys/${action}`, `${baseUrl}/keys/${name}`);

    if (method === "POST" && second === "create" && third === undefined) return (denied("create", "create/action") ?? (await this.create(request, name)));
    // An empty version (…/keys/{name}//sign) means the newest version.
    const [version, operation] = third === undefined && OPERATIONS.has(second ?? "") ? ["", second] : [second, third];
    if (method === "POST" && operation !== undefined && OPERATIONS.has(operation)) {
      return denied(operation as VaultKeyPermission, `keys/${operation}/action`) ?? (await this.operate(request, caller, name, version ?? "", operation));
    }
    if (method !== "GET" || operation !== undefined) return vaultError(405, "BadParameter", `${method} is not supported on ${request.pathname}.`);
    const refused = denied("get", "keys/read");
    if (refused !== undefined) return refused;
    if (version === "versions") {
      const value = this.keys.versions(name).map((key) => ({ kid: `${baseUrl}/keys/${key.name}/${key.version}`, attributes: keyBundle(baseUrl, key)["attributes"] }));
      return vaultAnswer(200, { value, nextLink: null });
    }
    const key = this.keys.find(name, version);
    return key === undefined ? notFound(name, version) : vaultAnswer(200, keyBundle(baseUrl, key));
  }

  private async create(request: EmulatorRequest, name: string): Promise<Answer> {
    const read = await vaultJsonBody(request, '{ "kty": "RSA", "key_size": 2048 }');
    if (isAnswer(read)) return read;
    const body = read.fields;
    if (body["kty"] !== "RSA" && body["kty"] !== "RSA-HSM") return vaultError(400, "BadParameter", "The emulator's vault makes RSA keys only: send kty RSA (createRsaKey).");
    const size = body["key_size"] ?? 2048;
    if (size !== 2048 && size !== 3072 && size !== 4096) return vaultError(400, "BadParameter", "key_size must be 2048, 3072 or 4096.");
    const key = await this.keys.create(name, { size });
    return vaultAnswer(200, keyBundle(request.baseUrl, key));
  }

  private async operate(request: EmulatorRequest, caller: VaultCaller, name: string, version: string, operation: string): Promise<Answer> {
    const read = await vaultJsonBody(request, '{ "alg": "PS256", "value": "<base64url digest>" }');
    if (isAnswer(read)) return read;
    const body = read.fields;
    const key = this.keys.find(name, version);
    if (key === undefined) return notFound(name, version);
    if (!key.enabled) return vaultError(403, "Forbidden", `Operation ${operation} is not allowed on a disabled key.`, { inner: "KeyDisabled" });
    const algorithm = body["alg"];
    if (typeof algorithm !== "string" || !(VAULT_SIGN_ALGORITHMS as readonly string[]).includes(algorithm)) {
      return vaultError(400, "BadParameter", `Invalid algorithm '${String(algorithm)}' for an RSA key: use one of ${VAULT_SIGN_ALGORITHMS.join(", ")}.`);
    }
    const alg = algorithm as VaultSignAlgorithm;
    const digest = decode(operation === "sign" ? body["value"] : body["digest"]);
    if (digest === undefined || !digestFits(alg, digest)) {
      return vaultError(400, "BadParameter", `The digest must be the base64url ${alg.slice(2)}-bit hash of the data (Key Vault signs digests, not messages).`);
    }
    const kid = `${request.baseUrl}/keys/${key.name}/${key.version}`;
    request.note({ clientId: caller.clientId });
    if (operation === "sign") return vaultAnswer(200, { kid, value: signDigest(key, alg, digest).toString("base64url") });
    const signature = decode(body["value"]);
    return vaultAnswer(200, { value: signature !== undefined && verifyDigest(key, alg, digest, signature) });
  }
}

function notFound(name: string, version: string | undefined): Answer {
  const which = version === undefined || version === "" || version === "versions" ? name : `${name}/${version}`;
  return vaultError(404, "KeyNotFound", `A key with (name/id) ${which} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command.`);
}

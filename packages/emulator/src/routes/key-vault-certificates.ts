// Azure Key Vault's certificates data plane, enough for `CertificateClient`:
// beginCreateCertificate (POST /certificates/{name}/create, then GET …/pending),
// getCertificate / getCertificateVersion (GET /certificates/{name}[/{version}]),
// listPropertiesOfCertificateVersions (GET …/versions) and getCertificatePolicy
// (GET …/policy). A new version is a rotation: new key, new certificate.
import type { Answer } from "../server/answer.js";
import type { EmulatorRequest } from "../server/request.js";
import { GatedVaultRoute, isAnswer, VAULT_OBJECT_NAME, vaultAnswer, vaultError, vaultJsonBody, type VaultCaller, type VaultGate, type VaultPermissions } from "../lib/vault-auth.js";
import { policyJson, readPolicy, x5tOf, type VaultCertificates, type VaultCertificateVersion } from "../lib/vault-certificates.js";

function attributes(entry: VaultCertificateVersion): Record<string, unknown> {
  return { enabled: entry.enabled, nbf: entry.notBefore, exp: entry.notAfter, created: entry.created, updated: entry.created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 };
}

/** Key Vault's certificate bundle: ids of the certificate, its key and secret, `cer` (DER, base64), `x5t`, attributes (and the policy). */
export function certificateBundle(baseUrl: string, entry: VaultCertificateVersion, withPolicy: boolean): Record<string, unknown> {
  const { name, version } = entry;
  return {
    id: `${baseUrl}/certificates/${name}/${version}`,
    kid: `${baseUrl}/keys/${name}/${version}`,
    sid: `${baseUrl}/secrets/${name}/${version}`,
    x5t: x5tOf(entry.der),
    cer: entry.der.toString("base64"),
    contentType: entry.policy.contentType,
    attributes: attributes(entry),
    ...(withPolicy ? { policy: policyJson(baseUrl, name, entry.policy) } : {}),
    tags: {},
  };
}

function operation(baseUrl: string, name: string): Record<string, unknown> {
  return {
    id: `${baseUrl}/certificates/${name}/pending`,
    issuer: { name: "Self" },
    cancellation_requested: false,
    status: "completed",
    target: `${baseUrl}/certificates/${name}`,
    request_id: crypto.randomUUID().replaceAll("-", ""),
  };
}

/** The emulated vault's `/certificates…` routes. */
export class KeyVaultCertificatesRoute extends GatedVaultRoute {
  constructor(
    gate: VaultGate,
    private readonly certificates: VaultCertificates,
    permissions: VaultPermissions,
  ) {
    super(gate, permissions);
  }

  protected async serve(request: EmulatorRequest, caller: VaultCaller): Promise<Answer> {
    const { method, baseUrl } = request;
    const [, name, second, ...extra] = request.segments;
    if (name === undefined || !VAULT_OBJECT_NAME.test(name) || extra.length > 0) {
      return vaultError(400, "BadParameter", "Use /certificates/{name}[/{version}], /certificates/{name}/create, …/pending, …/policy or …/versions.");
    }
    const resource = `${baseUrl}/certificates/${name}`;
    if (method === "POST" && second === "create") {
      const denied = this.denied(caller, "create", "Microsoft.KeyVault/vaults/certificates/create/action", resource);
      if (denied !== undefined) return denied;
      const body = await vaultJsonBody(request, '{ "policy": { "issuer": { "name": "Self" }, "x509_props": { "subject": "CN=…" } } }');
      if (isAnswer(body)) return body;
      const policy = readPolicy(name, body.fields["policy"]);
      if (typeof policy === "string") return vaultError(400, "BadParameter", policy);
      await this.certificates.create(name, policy);
      return vaultAnswer(202, operation(baseUrl, name), { Location: `${resource}/pending?api-version=${request.query.get("api-version") ?? ""}` });
    }
    if (method !== "GET") return vaultError(405, "BadParameter", `${method} is not supported on ${request.pathname}.`);
    const denied = this.denied(caller, "get", "Microsoft.KeyVault/vaults/certificates/read", resource);
    if (denied !== undefined) return denied;
    const latest = this.certificates.find(name);
    if (latest === undefined) return notFound(name, second);
    if (second === "pending") return vaultAnswer(200, operation(baseUrl, name));
    if (second === "policy") return vaultAnswer(200, policyJson(baseUrl, name, latest.policy));
    if (second === "versions") {
      const value = this.certificates.versions(name).map((entry) => ({ id: `${baseUrl}/certificates/${entry.name}/${entry.version}`, x5t: x5tOf(entry.der), attributes: attributes(entry), tags: {} }));
      return vaultAnswer(200, { value, nextLink: null });
    }
    const entry = this.certificates.find(name, second);
    if (entry === undefined) return notFound(name, second);
    if (!entry.enabled) return vaultError(403, "Forbidden", "Operation get is not allowed on a disabled certificate.", { inner: "CertificateDisabled" });
    return vaultAnswer(200, certificateBundle(baseUrl, entry, second === undefined));
  }
}

function notFound(name: string, version: string | undefined): Answer {
  const which = version === undefined || ["pending", "policy", "versions"].includes(version) ? name : `${name}/${version}`;
  return vaultError(404, "CertificateNotFound", `A certificate with (name/id) ${which} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command.`);
}

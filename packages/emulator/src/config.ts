import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Directory } from "./lib/directory.js";
import { validateFaultRule, validateLoopDetection, type FaultRule, type LoopDetectionOptions } from "./lib/faults.js";

/** A directory (Entra ID tenant). */
export interface TenantConfig {
  /** The tenant id, a GUID. Appears as `tid` and in the issuer. */
  id: string;
  /** Verified domains (e.g. `contoso.onmicrosoft.com`), usable in place of the id in URLs. */
  domains?: string[];
  /** Shown in error messages. */
  displayName?: string;
}

/** A client secret of an application. */
export interface SecretConfig {
  /** The secret value clients send. */
  value: string;
  /** ISO 8601 expiry; the secret is refused with AADSTS7000222 from then on. */
  expiresAt?: string;
  /** The secret's id (a "key id" in the portal); sending it instead of the value fails like Entra does. */
  id?: string;
}

/** A certificate credential of an application. */
export interface CertificateConfig {
  /** The X.509 certificate, PEM: public part only, never the private key. */
  pem: string;
}

/** An application permission (app role) a resource application exposes. */
export interface AppRoleConfig {
  /** The value that appears in the `roles` claim, e.g. `Orders.Read.All`. */
  value: string;
  /** The role's id (GUID). */
  id?: string;
  description?: string;
}

/** An app registration (application object), with its credentials and exposed API. */
export interface ApplicationConfig {
  /** The application (client) id. */
  clientId: string;
  displayName?: string;
  /** Id or domain of the tenant the app is registered in (it has a service principal there). */
  homeTenant: string;
  /**
   * Whether other tenants can consent to it; it then has a service principal in
   * each tenant that has a grant for it.
   * @default false
   */
  multiTenant?: boolean;
  secrets?: SecretConfig[];
  certificates?: CertificateConfig[];
  /** Application ID URIs clients use as the resource, e.g. `api://orders` or `https://x.example/`. */
  identifierUris?: string[];
  /** Application permissions this app exposes as a resource. */
  appRoles?: AppRoleConfig[];
  /**
   * Application permissions the app declares (the portal's "API permissions"):
   * what the admin consent endpoint grants.
   */
  requiredResourceAccess?: RequiredResourceAccessConfig[];
  /** Redirect URIs the admin consent endpoint may redirect to; when absent, any http(s) URL is accepted. */
  redirectUris?: string[];
  /**
   * Federated identity credentials: tokens of an external issuer (Kubernetes,
   * GitHub Actions, another emulator) the app accepts as client assertions.
   */
  federatedCredentials?: FederatedCredentialConfig[];
}

/** The audience Entra ID suggests for federated tokens. */
export const DEFAULT_FEDERATED_AUDIENCE = "api://AzureADTokenExchange";

/**
 * A federated identity credential of an application: a token whose `iss`,
 * `sub` and `aud` match is accepted as the app's client assertion.
 */
export interface FederatedCredentialConfig {
  /** The external issuer URL, exactly as in the token's `iss`; https, or http on a loopback host. */
  issuer: string;
  /** The token's `sub`, matched exactly (e.g. `system:serviceaccount:default:daemon`). */
  subject: string;
  /**
   * Accepted `aud` values.
   * @default ["api://AzureADTokenExchange"]
   */
  audiences?: string[];
  /** A unique name within the app, used to remove it. */
  name?: string;
}

/** App roles of one resource that an application declares it needs. */
export interface RequiredResourceAccessConfig {
  /** Identifier URI or client id of the resource application. */
  resource: string;
  /** App role values of the resource. */
  roles: string[];
}

/** Admin consent: app roles of a resource granted to a client in a tenant. */
export interface GrantConfig {
  /** Id or domain of the consenting tenant. */
  tenant: string;
  /** The client application that receives the roles. */
  clientId: string;
  /** Identifier URI or client id of the resource application. */
  resource: string;
  /** App role values of the resource. */
  roles: string[];
}

/** The emulator's directory: JSON-serialisable. */
export interface EmulatorConfig {
  tenants: TenantConfig[];
  applications: ApplicationConfig[];
  grants?: GrantConfig[];
  /** Fault rules active from the start (in a JSON file, `match.path` is an exact path and `retryAfter` seconds or a date string). */
  faults?: FaultRule[];
  /** Entra's loop detection (AADSTS50196); the `loopDetection` option of `startEmulator` overrides it. */
  loopDetection?: LoopDetectionOptions;
}

/** Thrown for an invalid emulator configuration or run-time change; the message names the field and the fix. */
export class EmulatorConfigError extends Error {
  /** Stable code for programmatic checks. */
  readonly code = "ERR_EMULATOR_CONFIG";
  /** Path of the offending field, e.g. `applications[1].homeTenant`. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = "EmulatorConfigError";
    this.field = field;
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Whether a string is a GUID in its usual 8-4-4-4-12 form. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** Whether a string is a DNS name that can be a verified domain. */
export function isDomainName(value: string): boolean {
  return DOMAIN.test(value);
}

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? JSON.stringify(value) : `a ${typeof value}`;
}

function expectObject(value: unknown, field: string, known: readonly string[]): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EmulatorConfigError(field, `expected an object, got ${describe(value)}.`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key) && key !== "$schema") {
      throw new EmulatorConfigError(
        `${field}.${key}`.replace(/^\./, ""),
        `unknown field; remove it or fix its spelling (known fields: ${known.join(", ")}).`,
      );
    }
  }
  return value as Json;
}

function expectString(value: unknown, field: string, hint: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new EmulatorConfigError(field, `expected ${hint}, got ${describe(value)}.`);
  }
  return value;
}

function optionalString(value: unknown, field: string, hint: string): string | undefined {
  return value === undefined ? undefined : expectString(value, field, hint);
}

function expectArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new EmulatorConfigError(field, `expected an array, got ${describe(value)}.`);
  return value;
}

/** Validates one tenant. */
export function validateTenant(value: unknown, field = "tenant"): TenantConfig {
  const raw = expectObject(value, field, ["id", "domains", "displayName"]);
  const id = expectString(raw.id, `${field}.id`, "the tenant id, a GUID");
  if (!isGuid(id)) {
    throw new EmulatorConfigError(`${field}.id`, `${JSON.stringify(id)} is not a GUID; tenant ids look like 72f988bf-86f1-41af-91ab-2d7cd011db47 (put names in domains).`);
  }
  const tenant: TenantConfig = { id: id.toLowerCase() };
  if (raw.domains !== undefined) {
    tenant.domains = expectArray(raw.domains, `${field}.domains`).map((domain, index) => {
      const name = expectString(domain, `${field}.domains[${index}]`, "a domain name");
      if (!isDomainName(name)) {
        throw new EmulatorConfigError(`${field}.domains[${index}]`, `${JSON.stringify(name)} is not a DNS name such as contoso.onmicrosoft.com.`);
      }
      return name.toLowerCase();
    });
  }
  const displayName = optionalString(raw.displayName, `${field}.displayName`, "a display name");
  if (displayName !== undefined) tenant.displayName = displayName;
  return tenant;
}

/** Validates one secret. */
export function validateSecret(value: unknown, field = "secret"): SecretConfig {
  const raw = expectObject(value, field, ["value", "expiresAt", "id"]);
  const secret: SecretConfig = { value: expectString(raw.value, `${field}.value`, "the secret value, a non-empty string") };
  const expiresAt = optionalString(raw.expiresAt, `${field}.expiresAt`, "an ISO 8601 date-time");
  if (expiresAt !== undefined) {
    if (Number.isNaN(Date.parse(expiresAt))) {
      throw new EmulatorConfigError(`${field}.expiresAt`, `${JSON.stringify(expiresAt)} is not an ISO 8601 date-time such as 2030-01-01T00:00:00Z.`);
    }
    secret.expiresAt = expiresAt;
  }
  const id = optionalString(raw.id, `${field}.id`, "a secret id");
  if (id !== undefined) secret.id = id;
  return secret;
}

/** Validates one certificate and returns it parsed. */
export function validateCertificate(value: unknown, field = "certificate"): CertificateConfig & { x509: X509Certificate } {
  const raw = expectObject(value, field, ["pem"]);
  const pem = expectString(raw.pem, `${field}.pem`, "an X.509 certificate in PEM form");
  if (/PRIVATE KEY-----/.test(pem)) {
    throw new EmulatorConfigError(`${field}.pem`, "contains a private key; give the emulator the certificate only (the -----BEGIN CERTIFICATE----- block), as you would upload a .cer to Entra ID.");
  }
  try {
    return { pem, x509: new X509Certificate(pem) };
  } catch (error) {
    throw new EmulatorConfigError(`${field}.pem`, "is not a readable X.509 certificate; expected a -----BEGIN CERTIFICATE----- PEM block.", { cause: error });
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Validates one federated identity credential and fills in the default audience. */
export function validateFederatedCredential(value: unknown, field = "federatedCredential"): FederatedCredentialConfig & { audiences: string[] } {
  const raw = expectObject(value, field, ["issuer", "subject", "audiences", "name"]);
  const issuer = expectString(raw.issuer, `${field}.issuer`, "the external issuer URL, e.g. https://token.actions.githubusercontent.com");
  let url: URL;
  try {
    url = new URL(issuer);
  } catch (error) {
    throw new EmulatorConfigError(`${field}.issuer`, `${JSON.stringify(issuer)} is not a URL; use the issuer exactly as it appears in the token's iss claim, e.g. https://oidc.example.com.`, { cause: error });
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname.toLowerCase());
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new EmulatorConfigError(`${field}.issuer`, `${JSON.stringify(issuer)} must use https (http is allowed only on localhost, 127.0.0.1 or [::1]).`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new EmulatorConfigError(`${field}.issuer`, `${JSON.stringify(issuer)} must not have a query or fragment; OpenID issuers are plain URLs.`);
  }
  const subject = expectString(raw.subject, `${field}.subject`, "the token's sub claim, e.g. system:serviceaccount:default:daemon");
  let audiences = [DEFAULT_FEDERATED_AUDIENCE];
  if (raw.audiences !== undefined) {
    audiences = expectArray(raw.audiences, `${field}.audiences`).map((audience, index) =>
      expectString(audience, `${field}.audiences[${index}]`, `an audience such as ${DEFAULT_FEDERATED_AUDIENCE}`),
    );
    if (audiences.length === 0) {
      throw new EmulatorConfigError(`${field}.audiences`, `must list at least one audience; omit it to use ${DEFAULT_FEDERATED_AUDIENCE}.`);
    }
  }
  const credential: FederatedCredentialConfig & { audiences: string[] } = { issuer, subject, audiences };
  const name = optionalString(raw.name, `${field}.name`, "a name unique within the application");
  if (name !== undefined) credential.name = name;
  return credential;
}

/** Validates one application (references to tenants are checked by the directory). */
export function validateApplication(value: unknown, field = "application"): ApplicationConfig {
  const raw = expectObject(value, field, ["clientId", "displayName", "homeTenant", "multiTenant", "secrets", "certificates", "identifierUris", "appRoles", "requiredResourceAccess", "redirectUris", "federatedCredentials"]);
  const clientId = expectString(raw.clientId, `${field}.clientId`, "the application (client) id");
  if (/\s/.test(clientId)) throw new EmulatorConfigError(`${field}.clientId`, "must not contain whitespace; use the application (client) id, usually a GUID.");
  const app: ApplicationConfig = {
    clientId: isGuid(clientId) ? clientId.toLowerCase() : clientId,
    homeTenant: expectString(raw.homeTenant, `${field}.homeTenant`, "the id or a domain of the tenant the app is registered in"),
  };
  const displayName = optionalString(raw.displayName, `${field}.displayName`, "a display name");
  if (displayName !== undefined) app.displayName = displayName;
  if (raw.multiTenant !== undefined) {
    if (typeof raw.multiTenant !== "boolean") throw new EmulatorConfigError(`${field}.multiTenant`, `expected true or false, got ${describe(raw.multiTenant)}.`);
    app.multiTenant = raw.multiTenant;
  }
  if (raw.secrets !== undefined) {
    app.secrets = expectArray(raw.secrets, `${field}.secrets`).map((secret, index) => validateSecret(secret, `${field}.secrets[${index}]`));
  }
  if (raw.certificates !== undefined) {
    app.certificates = expectArray(raw.certificates, `${field}.certificates`).map((certificate, index) => ({
      pem: validateCertificate(certificate, `${field}.certificates[${index}]`).pem,
    }));
  }
  if (raw.identifierUris !== undefined) {
    app.identifierUris = expectArray(raw.identifierUris, `${field}.identifierUris`).map((uri, index) => {
      const text = expectString(uri, `${field}.identifierUris[${index}]`, "an application ID URI such as api://orders");
      if (/\s/.test(text) || text.endsWith("/.default") || !/^[a-z][a-z0-9+.-]*:/i.test(text)) {
        throw new EmulatorConfigError(`${field}.identifierUris[${index}]`, `${JSON.stringify(text)} is not an application ID URI; use a URI such as api://orders or https://orders.example.com/ (without /.default).`);
      }
      return text;
    });
  }
  if (raw.requiredResourceAccess !== undefined) {
    app.requiredResourceAccess = expectArray(raw.requiredResourceAccess, `${field}.requiredResourceAccess`).map((entry, index) => {
      const entryField = `${field}.requiredResourceAccess[${index}]`;
      const rawEntry = expectObject(entry, entryField, ["resource", "roles"]);
      return {
        resource: expectString(rawEntry.resource, `${entryField}.resource`, "the identifier URI or client id of the resource application"),
        roles: expectArray(rawEntry.roles, `${entryField}.roles`).map((role, roleIndex) =>
          expectString(role, `${entryField}.roles[${roleIndex}]`, "an app role value of the resource"),
        ),
      };
    });
  }
  if (raw.redirectUris !== undefined) {
    app.redirectUris = expectArray(raw.redirectUris, `${field}.redirectUris`).map((uri, index) => {
      const text = expectString(uri, `${field}.redirectUris[${index}]`, "an absolute http(s) URL");
      if (!/^https?:\/\/[^\s]+$/i.test(text)) {
        throw new EmulatorConfigError(`${field}.redirectUris[${index}]`, `${JSON.stringify(text)} is not an absolute http(s) URL such as http://localhost:3000/consent.`);
      }
      return text;
    });
  }
  if (raw.federatedCredentials !== undefined) {
    app.federatedCredentials = expectArray(raw.federatedCredentials, `${field}.federatedCredentials`).map((credential, index) =>
      validateFederatedCredential(credential, `${field}.federatedCredentials[${index}]`),
    );
  }
  if (raw.appRoles !== undefined) {
    const seen = new Set<string>();
    app.appRoles = expectArray(raw.appRoles, `${field}.appRoles`).map((role, index) => {
      const roleField = `${field}.appRoles[${index}]`;
      const rawRole = expectObject(role, roleField, ["value", "id", "description"]);
      const roleValue = expectString(rawRole.value, `${roleField}.value`, "the role value, e.g. Orders.Read.All");
      if (/\s/.test(roleValue)) throw new EmulatorConfigError(`${roleField}.value`, "must not contain whitespace (it becomes an entry of the roles claim).");
      if (seen.has(roleValue)) throw new EmulatorConfigError(`${roleField}.value`, `duplicate role ${JSON.stringify(roleValue)}; role values must be unique per application.`);
      seen.add(roleValue);
      const result: AppRoleConfig = { value: roleValue };
      const id = optionalString(rawRole.id, `${roleField}.id`, "a GUID");
      if (id !== undefined) {
        if (!isGuid(id)) throw new EmulatorConfigError(`${roleField}.id`, `${JSON.stringify(id)} is not a GUID.`);
        result.id = id.toLowerCase();
      }
      const description = optionalString(rawRole.description, `${roleField}.description`, "a description");
      if (description !== undefined) result.description = description;
      return result;
    });
  }
  return app;
}

/** Validates one grant's shape (references are checked by the directory). */
export function validateGrant(value: unknown, field = "grant"): GrantConfig {
  const raw = expectObject(value, field, ["tenant", "clientId", "resource", "roles"]);
  return {
    tenant: expectString(raw.tenant, `${field}.tenant`, "the id or a domain of the consenting tenant"),
    clientId: expectString(raw.clientId, `${field}.clientId`, "the client application's id"),
    resource: expectString(raw.resource, `${field}.resource`, "the identifier URI or client id of the resource application"),
    roles: expectArray(raw.roles, `${field}.roles`).map((role, index) =>
      expectString(role, `${field}.roles[${index}]`, "an app role value of the resource"),
    ),
  };
}

/**
 * Checks the shape of an emulator configuration. References between tenants,
 * applications and grants are checked when the emulator loads it
 * (`startEmulator` and {@link loadEmulatorConfig} both do).
 */
export function validateEmulatorConfigShape(value: unknown): EmulatorConfig {
  const raw = expectObject(value, "", ["tenants", "applications", "grants", "faults", "loopDetection"]);
  const config: EmulatorConfig = {
    tenants: expectArray(raw.tenants, "tenants").map((tenant, index) => validateTenant(tenant, `tenants[${index}]`)),
    applications: expectArray(raw.applications, "applications").map((app, index) => validateApplication(app, `applications[${index}]`)),
  };
  if (raw.grants !== undefined) {
    config.grants = expectArray(raw.grants, "grants").map((grant, index) => validateGrant(grant, `grants[${index}]`));
  }
  if (raw.faults !== undefined) {
    config.faults = expectArray(raw.faults, "faults").map((rule, index) => validateFaultRule(rule, `faults[${index}]`));
  }
  if (raw.loopDetection !== undefined) config.loopDetection = validateLoopDetection(raw.loopDetection);
  return config;
}

/**
 * Reads and validates an emulator configuration file (JSON). Errors are
 * {@link EmulatorConfigError}s naming the file, the field and the fix.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ config: await loadEmulatorConfig("./emulator.json") });
 * ```
 */
export async function loadEmulatorConfig(path: string): Promise<EmulatorConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new EmulatorConfigError(path, `cannot read the emulator config file (${(error as NodeJS.ErrnoException).code ?? "error"}); check the path.`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EmulatorConfigError(path, `is not valid JSON (${(error as Error).message}); fix the syntax.`, { cause: error });
  }
  try {
    const config = validateEmulatorConfigShape(json);
    // Building the directory checks the references (tenants, grants, roles).
    new Directory(config);
    return config;
  } catch (error) {
    if (error instanceof EmulatorConfigError) {
      throw new EmulatorConfigError(`${path}: ${error.field}`, error.message.slice(error.field.length + 2), { cause: error });
    }
    throw error;
  }
}

// Validators of the directory's entries (tenants, secrets, certificates,
// federated credentials, applications, grants): shape and value checks only;
// references between entries are the directory's to check.
import { X509Certificate } from "node:crypto";
import { isDomainName, isGuid } from "../identifiers.js";
import { EmulatorConfigError, describe, expectArray, expectObject, expectString, optionalString } from "./error.js";
import {
  DEFAULT_FEDERATED_AUDIENCE,
  type AppRoleConfig,
  type ApplicationConfig,
  type CertificateConfig,
  type FederatedCredentialConfig,
  type GrantConfig,
  type SecretConfig,
  type TenantConfig,
  type TrustedCertificateSubjectConfig,
} from "./types.js";

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
  const raw = expectObject(value, field, ["clientId", "displayName", "homeTenant", "multiTenant", "secrets", "certificates", "trustedCertificateSubjects", "identifierUris", "appRoles", "requiredResourceAccess", "redirectUris", "federatedCredentials"]);
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
  if (raw.trustedCertificateSubjects !== undefined) {
    app.trustedCertificateSubjects = expectArray(raw.trustedCertificateSubjects, `${field}.trustedCertificateSubjects`).map((trust, index) => {
      const { subjectName, issuerPem } = validateTrustedSubject(trust, `${field}.trustedCertificateSubjects[${index}]`);
      return { subjectName, issuerPem };
    });
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

/** Checks a {@link TrustedCertificateSubjectConfig}: a subject name and a CA certificate (public part). */
export function validateTrustedSubject(value: unknown, field = "trustedCertificateSubject"): TrustedCertificateSubjectConfig & { commonName: string; issuer: X509Certificate } {
  const raw = expectObject(value, field, ["subjectName", "issuerPem"]);
  const subjectName = expectString(raw.subjectName, `${field}.subjectName`, 'the certificate subject, e.g. "CN=orders-daemon.contoso.com"');
  const issuerPem = expectString(raw.issuerPem, `${field}.issuerPem`, "the issuing CA's certificate in PEM form");
  if (/PRIVATE KEY-----/.test(issuerPem)) {
    throw new EmulatorConfigError(`${field}.issuerPem`, "contains a private key; give only the CA's certificate (-----BEGIN CERTIFICATE-----).");
  }
  let issuer: X509Certificate;
  try {
    issuer = new X509Certificate(issuerPem);
  } catch {
    throw new EmulatorConfigError(`${field}.issuerPem`, "is not an X.509 certificate in PEM form (-----BEGIN CERTIFICATE-----).");
  }
  if (!issuer.ca) throw new EmulatorConfigError(`${field}.issuerPem`, "is not a CA certificate (basicConstraints CA:TRUE); give the certificate of the CA that issues the app's certificates.");
  return { subjectName, issuerPem, commonName: subjectName.replace(/^CN=/i, "").trim(), issuer };
}

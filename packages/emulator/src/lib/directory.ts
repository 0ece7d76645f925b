// The emulator's in-memory directory: tenants, app registrations with their
// credentials, and admin-consent grants, with the lookups the token endpoint needs.
import type { X509Certificate } from "node:crypto";
import { certificateThumbprints, type CertificateThumbprints } from "../certificate.js";
import { validateApplication, validateCertificate, validateFederatedCredential, validateGrant, validateSecret, validateTenant, validateTrustedSubject } from "../config/entities.js";
import { EmulatorConfigError } from "../config/error.js";
import type { ApplicationConfig, EmulatorConfig, FederatedCredentialConfig, GrantConfig, SecretConfig, TenantConfig } from "../config/types.js";
import { normalizeClientId } from "../identifiers.js";
import type { TrustedSubject } from "./trusted-subjects.js";

/** A registered certificate with its parsed form and thumbprints. */
export interface RegisteredCertificate {
  pem: string;
  x509: X509Certificate;
  thumbprints: CertificateThumbprints;
}

/** An application with its mutable credentials. */
export interface ApplicationState {
  config: ApplicationConfig;
  homeTenantId: string;
  secrets: SecretConfig[];
  certificates: RegisteredCertificate[];
  /** Subject name + issuer trusts (SN+I). */
  trustedSubjects: TrustedSubject[];
  federatedCredentials: (FederatedCredentialConfig & { audiences: string[] })[];
}

interface StoredGrant {
  tenantId: string;
  clientId: string;
  resourceClientId: string;
  roles: Set<string>;
}

/** Case-insensitive key for identifier URIs; a trailing slash does not make a different resource. */
function uriKey(uri: string): string {
  return uri.toLowerCase().replace(/\/$/, "");
}

function register(pem: string, field: string): RegisteredCertificate {
  const { x509 } = validateCertificate({ pem }, field);
  return { pem, x509, thumbprints: certificateThumbprints(x509) };
}

/** Entra refuses a second credential with the same name, or the same issuer and subject. */
function addFederated(app: ApplicationState, value: unknown, field: string): void {
  const credential = validateFederatedCredential(value, field);
  for (const known of app.federatedCredentials) {
    if (credential.name !== undefined && known.name === credential.name) {
      throw new EmulatorConfigError(`${field}.name`, `application ${app.config.clientId} already has a federated credential named ${JSON.stringify(credential.name)}; names are unique per application.`);
    }
    if (known.issuer === credential.issuer && known.subject === credential.subject) {
      throw new EmulatorConfigError(`${field}.subject`, `application ${app.config.clientId} already has a federated credential for this issuer and subject; edit its audiences instead of adding another.`);
    }
  }
  app.federatedCredentials.push(credential);
}

/** Tenants, app registrations with their credentials, and grants; every change is validated. */
export class Directory {
  private readonly tenants = new Map<string, TenantConfig>();
  private readonly domains = new Map<string, string>();
  private readonly applications = new Map<string, ApplicationState>();
  private readonly identifierUris = new Map<string, string>();
  private grants: StoredGrant[] = [];
  /** `${tenantId} ${clientId}` of multi-tenant apps consented in a foreign tenant. */
  private readonly consents = new Set<string>();

  constructor(config: EmulatorConfig) {
    config.tenants.forEach((tenant, index) => this.addTenant(tenant, `tenants[${index}]`));
    // Required permissions may name resources registered later in the list: check them once all exist.
    config.applications.forEach((app, index) => this.addApplication(app, `applications[${index}]`, false));
    config.applications.forEach((app, index) => this.checkRequiredAccess(this.application(app.clientId)!, `applications[${index}]`));
    (config.grants ?? []).forEach((grant, index) => this.grant(grant, `grants[${index}]`));
  }

  /** Finds a tenant by GUID or by any of its domains. */
  resolveTenant(idOrDomain: string): TenantConfig | undefined {
    const key = idOrDomain.toLowerCase();
    return this.tenants.get(key) ?? this.tenants.get(this.domains.get(key) ?? "");
  }

  /** A tenant's id for a known tenant (by id or domain), else the segment in lower case: equal keys name one tenant. */
  tenantKey(idOrDomain: string): string {
    return this.resolveTenant(idOrDomain)?.id ?? idOrDomain.toLowerCase();
  }

  /** The tenant ids, in insertion order. */
  tenantIds(): string[] {
    return [...this.tenants.keys()];
  }

  addTenant(value: unknown, field = "tenant"): void {
    const tenant = validateTenant(value, field);
    if (this.tenants.has(tenant.id)) {
      throw new EmulatorConfigError(`${field}.id`, `tenant ${tenant.id} already exists; tenant ids must be unique.`);
    }
    for (const [index, domain] of (tenant.domains ?? []).entries()) {
      if (this.domains.has(domain)) {
        throw new EmulatorConfigError(`${field}.domains[${index}]`, `domain ${domain} already belongs to tenant ${this.domains.get(domain)}; a domain is verified in one tenant only.`);
      }
    }
    this.tenants.set(tenant.id, tenant);
    for (const domain of tenant.domains ?? []) this.domains.set(domain, tenant.id);
  }

  addApplication(value: unknown, field = "application", checkReferences = true): void {
    const config = validateApplication(value, field);
    if (this.applications.has(config.clientId)) {
      throw new EmulatorConfigError(`${field}.clientId`, `application ${config.clientId} already exists; client ids must be unique (use addSecret/addCertificate to change its credentials).`);
    }
    const home = this.resolveTenant(config.homeTenant);
    if (home === undefined) {
      throw new EmulatorConfigError(`${field}.homeTenant`, `${JSON.stringify(config.homeTenant)} matches no tenant; add the tenant first or use the id or a domain of an existing one.`);
    }
    for (const [index, uri] of (config.identifierUris ?? []).entries()) {
      const owner = this.identifierUris.get(uriKey(uri));
      if (owner !== undefined) {
        throw new EmulatorConfigError(`${field}.identifierUris[${index}]`, `${uri} is already an identifier URI of application ${owner}; identifier URIs are unique.`);
      }
    }
    const state: ApplicationState = {
      config,
      homeTenantId: home.id,
      secrets: [...(config.secrets ?? [])],
      certificates: (config.certificates ?? []).map((certificate, index) => register(certificate.pem, `${field}.certificates[${index}].pem`)),
      trustedSubjects: (config.trustedCertificateSubjects ?? []).map((trust, index) => validateTrustedSubject(trust, `${field}.trustedCertificateSubjects[${index}]`)),
      federatedCredentials: [],
    };
    (config.federatedCredentials ?? []).forEach((credential, index) => addFederated(state, credential, `${field}.federatedCredentials[${index}]`));
    this.applications.set(config.clientId, state);
    for (const uri of config.identifierUris ?? []) this.identifierUris.set(uriKey(uri), config.clientId);
    if (checkReferences) {
      try {
        this.checkRequiredAccess(state, field);
      } catch (error) {
        this.applications.delete(config.clientId);
        for (const uri of config.identifierUris ?? []) this.identifierUris.delete(uriKey(uri));
        throw error;
      }
    }
  }

  private checkRequiredAccess(app: ApplicationState, field: string): void {
    (app.config.requiredResourceAccess ?? []).forEach((entry, index) => {
      const entryField = `${field}.requiredResourceAccess[${index}]`;
      const resource = this.findResource(entry.resource);
      if (resource === undefined) {
        throw new EmulatorConfigError(`${entryField}.resource`, `${JSON.stringify(entry.resource)} matches no application's identifierUris or clientId; register the resource application.`);
      }
      const declared = new Set((resource.config.appRoles ?? []).map((role) => role.value));
      entry.roles.forEach((role, roleIndex) => {
        if (!declared.has(role)) {
          throw new EmulatorConfigError(`${entryField}.roles[${roleIndex}]`, `${JSON.stringify(role)} is not an app role of ${entry.resource}; declared roles: ${[...declared].join(", ") || "(none)"}.`);
        }
      });
    });
  }

  /**
   * Admin consent by a tenant: provisions the app there and grants every
   * app role it declares in `requiredResourceAccess`. Returns a reason when
   * consent is impossible (nothing is changed then).
   */
  adminConsent(tenantId: string, app: ApplicationState): string | undefined {
    const plan = this.consentPlan(tenantId, app);
    if (typeof plan === "string") return plan;
    if (app.homeTenantId !== tenantId) this.consents.add(`${tenantId} ${app.config.clientId}`);
    for (const { resource, roles } of plan) {
      this.grant({ tenant: tenantId, clientId: app.config.clientId, resource: resource.config.clientId, roles });
    }
    return undefined;
  }

  /**
   * What admin consent by a tenant would grant (the resources and app roles of the app's
   * `requiredResourceAccess`), or the reason it cannot be given. Changes nothing.
   */
  consentPlan(tenantId: string, app: ApplicationState): { resource: ApplicationState; roles: string[] }[] | string {
    if (app.homeTenantId !== tenantId && app.config.multiTenant !== true) {
      return `AADSTS700016: Application with identifier '${app.config.clientId}' is single-tenant; tenant ${tenantId} cannot consent to it (set multiTenant: true).`;
    }
    const resolved: { resource: ApplicationState; roles: string[] }[] = [];
    for (const entry of app.config.requiredResourceAccess ?? []) {
      const resource = this.findResource(entry.resource);
      if (resource === undefined || (resource.homeTenantId !== tenantId && resource.config.multiTenant !== true)) {
        return `AADSTS650052: The app needs access to a service (${entry.resource}) that the organization ${tenantId} has not subscribed to or enabled.`;
      }
      resolved.push({ resource, roles: entry.roles });
    }
    return resolved;
  }

  application(clientId: string): ApplicationState | undefined {
    return this.applications.get(normalizeClientId(clientId));
  }

  private requireApplication(clientId: string, field: string): ApplicationState {
    const app = this.application(clientId);
    if (app === undefined) {
      throw new EmulatorConfigError(field, `no application has client id ${JSON.stringify(clientId)}; add it with addApplication or fix the id.`);
    }
    return app;
  }

  addSecret(clientId: string, value: unknown): void {
    const app = this.requireApplication(clientId, "clientId");
    app.secrets.push(validateSecret(value));
  }

  /** Removes secrets whose value or id is `valueOrId`. */
  removeSecret(clientId: string, valueOrId: string): void {
    const app = this.requireApplication(clientId, "clientId");
    const remaining = app.secrets.filter((secret) => secret.value !== valueOrId && secret.id !== valueOrId);
    if (remaining.length === app.secrets.length) {
      throw new EmulatorConfigError("secret", `application ${app.config.clientId} has no such secret (matched by value or id); nothing was removed.`);
    }
    app.secrets = remaining;
  }

  addCertificate(clientId: string, value: unknown): void {
    const app = this.requireApplication(clientId, "clientId");
    const { pem } = validateCertificate(value);
    const certificate = register(pem, "certificate.pem");
    if (!app.certificates.some((known) => known.thumbprints.sha256Hex === certificate.thumbprints.sha256Hex)) {
      app.certificates.push(certificate);
    }
  }

  /** Trusts a subject name and issuing CA (SN+I) for the app: certificates are then accepted by their `x5c` chain. */
  trustCertificateSubject(clientId: string, value: unknown): void {
    this.requireApplication(clientId, "clientId").trustedSubjects.push(validateTrustedSubject(value));
  }

  /**
   * Removes a certificate given by its PEM or a thumbprint: SHA-1 or SHA-256,
   * hex (any case, colons allowed) or base64url (`x5t`, `x5t#S256`).
   */
  removeCertificate(clientId: string, thumbprintOrPem: string): void {
    const app = this.requireApplication(clientId, "clientId");
    let wanted = thumbprintOrPem.trim();
    if (wanted.includes("-----BEGIN")) {
      wanted = register(wanted, "certificate.pem").thumbprints.sha256Hex;
    }
    const hex = wanted.replace(/:/g, "").toUpperCase();
    const remaining = app.certificates.filter(({ thumbprints }) =>
      ![thumbprints.sha1Hex, thumbprints.sha256Hex].includes(hex) && ![thumbprints.x5t, thumbprints.x5tS256].includes(wanted),
    );
    if (remaining.length === app.certificates.length) {
      throw new EmulatorConfigError("certificate", `application ${app.config.clientId} has no certificate with that thumbprint or PEM; nothing was removed.`);
    }
    app.certificates = remaining;
  }

  addFederatedCredential(clientId: string, value: unknown): void {
    addFederated(this.requireApplication(clientId, "clientId"), value, "federatedCredential");
  }

  /** Removes the federated credentials whose name or subject is `nameOrSubject`. */
  removeFederatedCredential(clientId: string, nameOrSubject: string): void {
    const app = this.requireApplication(clientId, "clientId");
    const remaining = app.federatedCredentials.filter((credential) => credential.name !== nameOrSubject && credential.subject !== nameOrSubject);
    if (remaining.length === app.federatedCredentials.length) {
      throw new EmulatorConfigError("federatedCredential", `application ${app.config.clientId} has no federated credential with that name or subject; nothing was removed.`);
    }
    app.federatedCredentials = remaining;
  }

  /** Finds the resource application named by an identifier URI or a client id. */
  findResource(resource: string): ApplicationState | undefined {
    const byUri = this.identifierUris.get(uriKey(resource));
    return byUri !== undefined ? this.applications.get(byUri) : this.application(resource);
  }

  /**
   * An app has a service principal in its home tenant, and in another tenant
   * when it is multi-tenant and that tenant consented (a grant names it as
   * client or resource).
   */
  hasServicePrincipal(app: ApplicationState, tenantId: string): boolean {
    if (app.homeTenantId === tenantId) return true;
    if (app.config.multiTenant !== true) return false;
    const clientId = app.config.clientId;
    if (this.consents.has(`${tenantId} ${clientId}`)) return true;
    return this.grants.some((grant) => grant.tenantId === tenantId && (grant.clientId === clientId || grant.resourceClientId === clientId));
  }

  /** The app roles of `resource` granted to `clientId` in `tenantId`, sorted. */
  roles(tenantId: string, clientId: string, resource: ApplicationState): string[] {
    const roles = new Set<string>();
    for (const grant of this.grants) {
      if (grant.tenantId === tenantId && grant.clientId === clientId && grant.resourceClientId === resource.config.clientId) {
        for (const role of grant.roles) roles.add(role);
      }
    }
    return [...roles].sort();
  }

  /** Admin consent: adds roles to the (tenant, client, resource) grant. */
  grant(value: unknown, field = "grant"): void {
    const grant: GrantConfig = validateGrant(value, field);
    const tenant = this.resolveTenant(grant.tenant);
    if (tenant === undefined) {
      throw new EmulatorConfigError(`${field}.tenant`, `${JSON.stringify(grant.tenant)} matches no tenant; use the id or a domain of a configured tenant.`);
    }
    const client = this.requireApplication(grant.clientId, `${field}.clientId`);
    if (client.homeTenantId !== tenant.id && client.config.multiTenant !== true) {
      throw new EmulatorConfigError(`${field}.tenant`, `application ${client.config.clientId} is single-tenant (registered in ${client.homeTenantId}), so tenant ${tenant.id} cannot consent to it; set multiTenant: true on the application.`);
    }
    const resource = this.findResource(grant.resource);
    if (resource === undefined) {
      throw new EmulatorConfigError(`${field}.resource`, `${JSON.stringify(grant.resource)} matches no application's identifierUris or clientId; register the resource application first.`);
    }
    if (resource.homeTenantId !== tenant.id && resource.config.multiTenant !== true) {
      throw new EmulatorConfigError(`${field}.resource`, `resource application ${resource.config.clientId} is single-tenant (registered in ${resource.homeTenantId}), so it cannot be provisioned in tenant ${tenant.id}; set multiTenant: true on it.`);
    }
    const declared = new Set((resource.config.appRoles ?? []).map((role) => role.value));
    grant.roles.forEach((role, index) => {
      if (!declared.has(role)) {
        throw new EmulatorConfigError(`${field}.roles[${index}]`, `${JSON.stringify(role)} is not an app role of ${grant.resource}; declared roles: ${[...declared].join(", ") || "(none)"}. Add it to the resource's appRoles or fix the name.`);
      }
    });
    const existing = this.grants.find((stored) => stored.tenantId === tenant.id && stored.clientId === client.config.clientId && stored.resourceClientId === resource.config.clientId);
    if (existing !== undefined) {
      for (const role of grant.roles) existing.roles.add(role);
    } else {
      this.grants.push({ tenantId: tenant.id, clientId: client.config.clientId, resourceClientId: resource.config.clientId, roles: new Set(grant.roles) });
    }
  }

  /** Removes the client's grants in the tenant (only those on `resource` when given). */
  revoke(value: { tenant: string; clientId: string; resource?: string }): void {
    const tenant = this.resolveTenant(value.tenant);
    if (tenant === undefined) throw new EmulatorConfigError("tenant", `${JSON.stringify(value.tenant)} matches no tenant.`);
    const clientId = normalizeClientId(value.clientId);
    let resourceClientId: string | undefined;
    if (value.resource !== undefined) {
      const resource = this.findResource(value.resource);
      if (resource === undefined) throw new EmulatorConfigError("resource", `${JSON.stringify(value.resource)} matches no application's identifierUris or clientId.`);
      resourceClientId = resource.config.clientId;
    }
    this.grants = this.grants.filter(
      (grant) => !(grant.tenantId === tenant.id && grant.clientId === clientId && (resourceClientId === undefined || grant.resourceClientId === resourceClientId)),
    );
    // Withdrawing all of an app's consent removes its service principal from a foreign tenant.
    if (resourceClientId === undefined) this.consents.delete(`${tenant.id} ${clientId}`);
  }
}

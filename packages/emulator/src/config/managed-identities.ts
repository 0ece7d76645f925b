// Managed identities in the configuration: each entry's shape, the rules between
// entries (one system-assigned identity per host, unique ids, a configured tenant),
// and the service principal each identity has in its tenant, so grants can name it.
import { isGuid } from "../identifiers.js";
import { EmulatorConfigError, describe, expectArray, expectObject, expectString, optionalString } from "./error.js";
import type { ApplicationConfig, EmulatorConfig, ManagedIdentityConfig, TenantConfig } from "./types.js";

const USER_ASSIGNED_ID = /^\/subscriptions\/[^/\s]+\/resourceGroups\/[^/\s]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/\s]+$/i;
const RESOURCE_ID_EXAMPLE = "/subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>";

function expectGuid(value: unknown, field: string, what: string): string {
  const text = expectString(value, field, `${what}, a GUID`);
  if (!isGuid(text)) throw new EmulatorConfigError(field, `${JSON.stringify(text)} is not a GUID; use ${what} as the portal shows it, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47.`);
  return text.toLowerCase();
}

/** Validates one managed identity's shape. */
function validateManagedIdentity(value: unknown, field: string): ManagedIdentityConfig {
  const raw = expectObject(value, field, ["tenant", "clientId", "objectId", "resourceId", "systemAssigned", "displayName"]);
  const identity: ManagedIdentityConfig = {
    tenant: expectString(raw.tenant, `${field}.tenant`, "the id or a domain of the tenant the identity lives in"),
    clientId: expectGuid(raw.clientId, `${field}.clientId`, "the identity's client id"),
    objectId: expectGuid(raw.objectId, `${field}.objectId`, "the identity's object (principal) id"),
  };
  if (raw.systemAssigned !== undefined) {
    if (typeof raw.systemAssigned !== "boolean") throw new EmulatorConfigError(`${field}.systemAssigned`, `expected true or false, got ${describe(raw.systemAssigned)}.`);
    identity.systemAssigned = raw.systemAssigned;
  }
  const resourceId = optionalString(raw.resourceId, `${field}.resourceId`, `the identity's ARM id, ${RESOURCE_ID_EXAMPLE}`);
  if (resourceId !== undefined) {
    if (identity.systemAssigned === true) {
      throw new EmulatorConfigError(`${field}.resourceId`, "a system-assigned identity has no userAssignedIdentities resource id; remove resourceId, or make the identity user-assigned (systemAssigned: false).");
    }
    if (!USER_ASSIGNED_ID.test(resourceId)) {
      throw new EmulatorConfigError(`${field}.resourceId`, `${JSON.stringify(resourceId)} is not a user-assigned identity's ARM id; expected ${RESOURCE_ID_EXAMPLE}.`);
    }
    identity.resourceId = resourceId;
  }
  const displayName = optionalString(raw.displayName, `${field}.displayName`, "a display name");
  if (displayName !== undefined) identity.displayName = displayName;
  return identity;
}

function knowsTenant(tenants: readonly TenantConfig[], idOrDomain: string): boolean {
  const key = idOrDomain.toLowerCase();
  return tenants.some((tenant) => tenant.id === key || (tenant.domains ?? []).includes(key));
}

/**
 * Validates the `managedIdentities` list against the rest of the configuration:
 * each names a configured tenant, at most one is system-assigned, and client ids,
 * object ids and resource ids are unique (client ids also among applications).
 */
export function validateManagedIdentities(value: unknown, config: Pick<EmulatorConfig, "tenants" | "applications">): ManagedIdentityConfig[] {
  const identities = expectArray(value, "managedIdentities").map((entry, index) => validateManagedIdentity(entry, `managedIdentities[${index}]`));
  const appIds = new Set(config.applications.map((app) => app.clientId.toLowerCase()));
  identities.forEach((identity, index) => {
    const field = `managedIdentities[${index}]`;
    if (!knowsTenant(config.tenants, identity.tenant)) {
      throw new EmulatorConfigError(`${field}.tenant`, `${JSON.stringify(identity.tenant)} matches no tenant; add the tenant to tenants or use the id or a domain of a configured one.`);
    }
    if (appIds.has(identity.clientId)) {
      throw new EmulatorConfigError(`${field}.clientId`, `${identity.clientId} is already the client id of an application; a managed identity has a client id of its own.`);
    }
    const earlier = identities.slice(0, index);
    const clash = (name: string, same: (other: ManagedIdentityConfig) => boolean): void => {
      const other = earlier.findIndex(same);
      if (other >= 0) throw new EmulatorConfigError(`${field}.${name}`, `managedIdentities[${other}] has the same ${name}; every identity has its own.`);
    };
    clash("clientId", (other) => other.clientId === identity.clientId);
    clash("objectId", (other) => other.objectId === identity.objectId);
    if (identity.resourceId !== undefined) clash("resourceId", (other) => other.resourceId?.toLowerCase() === identity.resourceId?.toLowerCase());
    if (identity.systemAssigned === true) {
      const other = earlier.findIndex((candidate) => candidate.systemAssigned === true);
      if (other >= 0) {
        throw new EmulatorConfigError(`${field}.systemAssigned`, `managedIdentities[${other}] is already system-assigned and a host has only one; make this identity user-assigned (give it a resourceId instead).`);
      }
    }
  });
  return identities;
}

/**
 * The configuration the directory is built from: each managed identity also has a
 * service principal in its tenant (an application without credentials), so grants can
 * give it app roles and the token route can read them back like an app's.
 */
export function withManagedIdentityPrincipals(config: EmulatorConfig): EmulatorConfig {
  const identities = config.managedIdentities ?? [];
  if (identities.length === 0) return config;
  const principals: ApplicationConfig[] = identities.map((identity) => ({
    clientId: identity.clientId,
    homeTenant: identity.tenant,
    displayName: identity.displayName ?? `managed identity ${identity.clientId}`,
  }));
  return { ...config, applications: [...config.applications, ...principals] };
}

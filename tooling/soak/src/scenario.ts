import { demoEmulatorConfig, demoEmulatorIdentities, type EmulatorConfig, type GrantConfig } from "@daemon-auth/emulator";

/** The soak's shape: how many processes, for how long, and the token lifetime they live through. */
export interface SoakSettings {
  /** Worker processes sharing one Redis. */
  workers: number;
  /** Lifetime of the emulator's access tokens, in seconds. */
  tokenLifetimeSeconds: number;
  /** The workers' `expiryMarginMs`: a quarter of the lifetime, as 5 minutes is of Entra's usual hour. */
  expiryMarginMs: number;
  /** The workers' `requestTimeoutMs`, short enough that a hung token request costs seconds, not the lifetime. */
  requestTimeoutMs: number;
  /** How long the workers acquire, in milliseconds: several token lifetimes. */
  durationMs: number;
  /** When the heap baseline is taken, after start: the first lifetime warms the workers up. */
  warmupMs: number;
  /** Pause of each worker between two passes over its keys, in milliseconds. */
  passIntervalMs: number;
}

export const SOAK: SoakSettings = {
  workers: 8,
  tokenLifetimeSeconds: 20,
  expiryMarginMs: 5_000,
  requestTimeoutMs: 2_000,
  durationMs: 130_000,
  warmupMs: 25_000,
  passIntervalMs: 20,
};

const ids = demoEmulatorIdentities;

/** A tenant the daemon acquires in; the first is the daemon's home tenant. */
export interface SoakTenant {
  id: string;
  name: string;
}

/** A resource the daemon asks tokens for; `aud` of its tokens is `uri`. */
export interface SoakResource {
  clientId: string;
  uri: string;
  role: string;
}

export const TENANTS: readonly SoakTenant[] = [
  { id: ids.tenantId, name: "contoso" },
  { id: "2b4d6f8a-1c3e-4a5b-9c7d-8e9f0a1b2c3d", name: "fabrikam" },
];

export const RESOURCES: readonly SoakResource[] = [
  { clientId: ids.apiClientId, uri: ids.apiIdentifierUri, role: "Orders.Read.All" },
  { clientId: "7b9d1f3a-5c7e-4a9b-8d1f-3a5c7e9b1d2f", uri: "api://daemon-auth-reports", role: "Reports.Read.All" },
  { clientId: "9c1e3a5b-7d9f-4b1c-8e3a-5b7d9f1c3e5a", uri: "api://daemon-auth-billing", role: "Billing.Read.All" },
];

/** One token key of the soak: a tenant and a resource's `.default` scope. */
export interface SoakKey {
  tenant: SoakTenant;
  resource: SoakResource;
  scope: string;
  /** `tenant-name resource-uri`, for reports. */
  label: string;
}

/** Every tenant × resource pair: the keys each worker keeps acquiring. */
export function soakKeys(): SoakKey[] {
  return TENANTS.flatMap((tenant) =>
    RESOURCES.map((resource) => ({ tenant, resource, scope: `${resource.uri}/.default`, label: `${tenant.name} ${resource.uri}` })),
  );
}

/**
 * The demo directory, grown to the soak's tenants and resources: the daemon (multi-tenant)
 * has admin consent for every resource in every tenant.
 */
export function soakEmulatorConfig(): EmulatorConfig {
  const config = demoEmulatorConfig();
  const home = TENANTS[0] as SoakTenant;
  for (const tenant of TENANTS.slice(1)) config.tenants.push({ id: tenant.id, displayName: tenant.name });
  for (const application of config.applications) application.multiTenant = true;
  for (const resource of RESOURCES.slice(1)) {
    config.applications.push({
      clientId: resource.clientId,
      displayName: `daemon-auth soak ${resource.uri}`,
      homeTenant: home.id,
      multiTenant: true,
      identifierUris: [resource.uri],
      appRoles: [{ value: resource.role, id: crypto.randomUUID(), description: resource.role }],
    });
  }
  // The demo config already grants the first resource in the home tenant.
  const grants: GrantConfig[] = soakKeys()
    .filter((key) => !(key.tenant === home && key.resource === RESOURCES[0]))
    .map((key) => ({ tenant: key.tenant.id, clientId: ids.daemonClientId, resource: key.resource.uri, roles: [key.resource.role] }));
  config.grants = [...(config.grants ?? []), ...grants];
  return config;
}

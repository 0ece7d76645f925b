import type { EmulatorConfig } from "./config/types.js";

/**
 * The ids and the (public, demo-only) secret of {@link demoEmulatorConfig},
 * for samples and scripts that run against the emulator's built-in directory.
 */
export const demoEmulatorIdentities = Object.freeze({
  tenantId: "8f3c2a1e-5b7d-4c9e-a1f2-3d4e5f6a7b8c",
  tenantDomain: "contoso.onmicrosoft.com",
  daemonClientId: "0d2f4b6c-8e1a-4c3e-9b5d-7f9a1c3e5b7d",
  /** Demo value published in the README: only the emulator accepts it. */
  daemonClientSecret: "demo-secret-for-the-daemon-auth-emulator-only",
  apiClientId: "5a7c9e1b-3d5f-4a7c-8e9b-1c3d5e7f9a2b",
  apiIdentifierUri: "api://daemon-auth-demo",
  apiScope: "api://daemon-auth-demo/.default",
  /** The demo host's system-assigned managed identity (client id, object id). */
  systemIdentityClientId: "6b8d0f2a-4c6e-4a8b-9d1f-3a5c7e9b1d2f",
  systemIdentityObjectId: "7c9e1a3b-5d7f-4b9c-8e2a-4b6d8f0a2c3e",
  /** A user-assigned managed identity of the demo host. */
  userIdentityClientId: "8d0f2b4c-6e8a-4c0d-9f3b-5c7e9a1b3d4f",
  userIdentityObjectId: "9e1a3c5d-7f9b-4d1e-8a4c-6d8f0b2c4e5a",
  userIdentityResourceId: "/subscriptions/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/resourceGroups/daemon-auth-demo/providers/Microsoft.ManagedIdentity/userAssignedIdentities/demo-daemon",
});

/**
 * The directory the CLI starts with when no `--config` is given: tenant
 * `contoso` (`contoso.onmicrosoft.com`), a daemon app with a client secret,
 * an API `api://daemon-auth-demo` with app roles `Orders.Read.All` and
 * `Orders.Write.All`, admin consent of `Orders.Read.All` to the daemon, and a
 * system-assigned and a user-assigned managed identity (the first granted
 * `Orders.Read.All`, the second `Orders.Write.All`).
 * Returns a fresh copy on each call.
 */
export function demoEmulatorConfig(): EmulatorConfig {
  const ids = demoEmulatorIdentities;
  return {
    tenants: [{ id: ids.tenantId, domains: [ids.tenantDomain], displayName: "contoso" }],
    applications: [
      {
        clientId: ids.daemonClientId,
        displayName: "daemon-auth demo daemon",
        homeTenant: ids.tenantId,
        secrets: [{ value: ids.daemonClientSecret, id: "5f0b7a3c-2d4e-4f6a-8b9c-0d1e2f3a4b5c" }],
      },
      {
        clientId: ids.apiClientId,
        displayName: "daemon-auth demo API",
        homeTenant: ids.tenantId,
        identifierUris: [ids.apiIdentifierUri],
        appRoles: [
          { value: "Orders.Read.All", id: "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e", description: "Read all orders" },
          { value: "Orders.Write.All", id: "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f", description: "Create and update all orders" },
        ],
      },
    ],
    managedIdentities: [
      { tenant: ids.tenantId, clientId: ids.systemIdentityClientId, objectId: ids.systemIdentityObjectId, systemAssigned: true, displayName: "demo host (system-assigned)" },
      { tenant: ids.tenantId, clientId: ids.userIdentityClientId, objectId: ids.userIdentityObjectId, resourceId: ids.userIdentityResourceId, displayName: "demo-daemon (user-assigned)" },
    ],
    grants: [
      { tenant: ids.tenantId, clientId: ids.daemonClientId, resource: ids.apiIdentifierUri, roles: ["Orders.Read.All"] },
      { tenant: ids.tenantId, clientId: ids.systemIdentityClientId, resource: ids.apiIdentifierUri, roles: ["Orders.Read.All"] },
      { tenant: ids.tenantId, clientId: ids.userIdentityClientId, resource: ids.apiIdentifierUri, roles: ["Orders.Write.All"] },
    ],
  };
}

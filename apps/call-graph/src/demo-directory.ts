import { demoEmulatorConfig, demoEmulatorIdentities as ids, GRAPH_RESOURCE, GRAPH_USERS_ROLE, type Emulator, type EmulatorConfig, type GraphUser } from "@daemon-auth/emulator";

/** Microsoft Graph's well-known app id: the resource of `https://graph.microsoft.com`. */
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/** A second daemon of the same tenant whose admin has not consented to `User.Read.All` yet. */
export const unconsentedApp = Object.freeze({
  clientId: "3b5d7f9a-1c3e-4a5b-8d7f-9a1b3c5d7e9f",
  /** Only the emulator accepts it. */
  clientSecret: "unconsented-secret-for-the-emulator-only",
});

const NAMES = [
  "Adele Vance", "Alex Wilber", "Diego Siciliani", "Grady Archie", "Henrietta Mueller", "Isaiah Langer",
  "Johanna Lorenz", "Joni Sherman", "Lee Gu", "Lidia Holloway", "Lynne Robbins", "Megan Bowen",
];

/** The users the demo's Graph lists: a dozen, so pages of 5 make three pages. */
export const demoUsers: readonly GraphUser[] = NAMES.map((name, index) => ({
  id: `6e1f0c2a-3b4d-4e5f-8a9b-${String(index + 1).padStart(12, "0")}`,
  displayName: name,
  userPrincipalName: `${name.split(" ")[0]!.toLowerCase()}@${ids.tenantDomain}`,
}));

/**
 * The emulator's demo directory plus Microsoft Graph as a resource: the demo daemon
 * has admin consent for `User.Read.All`, {@link unconsentedApp} has none.
 */
export function callGraphEmulatorConfig(): EmulatorConfig {
  const config = demoEmulatorConfig();
  config.applications.push(
    { clientId: GRAPH_APP_ID, displayName: "Microsoft Graph", homeTenant: ids.tenantId, multiTenant: true, identifierUris: [GRAPH_RESOURCE], appRoles: [{ value: GRAPH_USERS_ROLE }] },
    {
      clientId: unconsentedApp.clientId,
      displayName: "directory report (no consent yet)",
      homeTenant: ids.tenantId,
      secrets: [{ value: unconsentedApp.clientSecret }],
      // The permission is on the app registration; a tenant admin has not granted it yet.
      requiredResourceAccess: [{ resource: GRAPH_RESOURCE, roles: [GRAPH_USERS_ROLE] }],
    },
  );
  config.grants?.push({ tenant: ids.tenantId, clientId: ids.daemonClientId, resource: GRAPH_RESOURCE, roles: [GRAPH_USERS_ROLE] });
  return config;
}

/**
 * The variables a user sets for Entra ID, pointed at `emulator` instead: what the demo
 * passes to `main`. Pages of 5, so the demo's dozen users make three pages.
 */
export function demoEnvironment(emulator: Emulator, clientId: string, clientSecret: string): Record<string, string> {
  return {
    AZURE_AUTHORITY_HOST: emulator.url,
    AZURE_TENANT_ID: ids.tenantId,
    AZURE_CLIENT_ID: clientId,
    AZURE_CLIENT_SECRET: clientSecret,
    GRAPH_URL: emulator.url,
    GRAPH_PAGE_SIZE: "5",
  };
}

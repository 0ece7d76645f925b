/* eslint-disable @typescript-eslint/no-explicit-any -- peers print loosely typed JSON */
// Managed identities for the tests: a test directory with a system-assigned and a
// user-assigned identity in Contoso, and a child-process runner whose environment
// points a real managed identity client at the emulator.
import type { EmulatorConfig } from "../src/index.js";
import { CONTOSO, runJsonChild, testConfig } from "./helpers.js";

export const SYSTEM_MI = { clientId: "bbbbbbbb-0000-4000-8000-000000000001", objectId: "cccccccc-0000-4000-8000-000000000001" };
export const USER_MI = {
  clientId: "bbbbbbbb-0000-4000-8000-000000000002",
  objectId: "cccccccc-0000-4000-8000-000000000002",
  resourceId: "/subscriptions/dddddddd-0000-4000-8000-000000000001/resourceGroups/orders/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders-daemon",
};

/** testConfig() plus both identities, each granted a role on api://orders. */
export function managedIdentityConfig(): EmulatorConfig {
  const config = testConfig();
  config.managedIdentities = [
    { tenant: "contoso.onmicrosoft.com", ...SYSTEM_MI, systemAssigned: true, displayName: "vm (system-assigned)" },
    { tenant: CONTOSO, ...USER_MI },
  ];
  config.grants = [
    ...(config.grants ?? []),
    { tenant: CONTOSO, clientId: SYSTEM_MI.clientId, resource: "api://orders", roles: ["Orders.Read.All"] },
    { tenant: CONTOSO, clientId: USER_MI.clientId, resource: "api://orders", roles: ["Orders.Write.All"] },
  ];
  return config;
}

/** Variables of the parent that would make a child pick another managed identity source. */
const SOURCE_VARIABLES = ["AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET", "AZURE_CLIENT_ID"];

/** Runs `command args` with `environment` added to a parent environment cleared of source variables; resolves its last JSON line. */
export function runInEnvironment(command: string, args: string[], environment: Record<string, string>, input: Record<string, unknown>): Promise<Record<string, any>> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SOURCE_VARIABLES) delete env[name];
  return runJsonChild(command, args, { ...env, ...environment, PEER_INPUT: JSON.stringify(input) });
}

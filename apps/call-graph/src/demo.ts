/**
 * `pnpm demo`: the daemon offline. The emulator (a local Entra ID with a Graph-shaped
 * `/v1.0/users`) starts on a free port; {@link main} runs with the environment a user
 * would set for Entra ID, pointed at the emulator:
 *   1. the daemon lists 12 users in pages of 5: one token, then the cache;
 *   2. an app without admin consent gets the admin consent URL instead;
 *   3. once an admin has consented, the same app lists the users.
 */
import { demoEmulatorIdentities as ids, GRAPH_RESOURCE, GRAPH_USERS_ROLE, startEmulator } from "@daemon-auth/emulator";
import { callGraphEmulatorConfig, demoEnvironment, demoUsers, unconsentedApp } from "./demo-directory.js";
import { main } from "./daemon.js";

const emulator = await startEmulator({ config: callGraphEmulatorConfig(), graph: { users: [...demoUsers] } });
const environmentOf = (clientId: string, clientSecret: string) => demoEnvironment(emulator, clientId, clientSecret);

let exitCode = 1;
try {
  console.log(`call-graph demo: offline, against the emulator at ${emulator.url} (Graph at ${emulator.graphUrl})\n`);
  console.log("1. the daemon lists the users of contoso");
  const listed = await main(environmentOf(ids.daemonClientId, ids.daemonClientSecret));
  const daemonTokenRequests = emulator.tokenRequestCount({ clientId: ids.daemonClientId });

  console.log("\n2. another app of the tenant, whose admin has not consented to User.Read.All");
  const refused = await main(environmentOf(unconsentedApp.clientId, unconsentedApp.clientSecret));

  console.log("\n3. a tenant admin grants the consent; the same app runs again");
  emulator.grant({ tenant: ids.tenantId, clientId: unconsentedApp.clientId, resource: GRAPH_RESOURCE, roles: [GRAPH_USERS_ROLE] });
  const consented = await main(environmentOf(unconsentedApp.clientId, unconsentedApp.clientSecret));

  if (listed === 0 && daemonTokenRequests === 1 && refused === 1 && consented === 0) {
    console.log("\nDone: one token served every page; without admin consent the daemon pointed at the consent URL, and consent fixed it.");
    exitCode = 0;
  } else {
    console.error("\nThe demo did not go as expected; see the lines above.");
  }
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await emulator.close();
}
process.exitCode = exitCode;

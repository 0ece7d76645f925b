/**
 * The same daemon against Entra ID (or any Entra-shaped host) and a real API:
 *   AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, API_SCOPE, API_URL
 *   [AZURE_AUTHORITY_HOST]
 */
import { createDaemonClient } from "@daemon-auth/core";
import { clientSecretFromEnvironment } from "@daemon-auth/credential-secret";
import { callOrdersApi } from "./daemon.js";

const missing = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "API_SCOPE", "API_URL"].filter(
  (name) => !process.env[name],
);
if (missing.length > 0) {
  console.error(`Set ${missing.join(", ")} (or run 'pnpm demo' for the offline demo).`);
  process.exit(2);
}
const env = process.env as Record<string, string>;
const client = createDaemonClient({
  tenantId: env["AZURE_TENANT_ID"] as string,
  ...(env["AZURE_AUTHORITY_HOST"] ? { authorityHost: env["AZURE_AUTHORITY_HOST"] } : {}),
  clientId: env["AZURE_CLIENT_ID"] as string,
  credential: clientSecretFromEnvironment(),
});
try {
  const run = await callOrdersApi(client, env["API_URL"] as string, env["API_SCOPE"] as string);
  console.log(`token from ${run.token.source}; ${env["API_URL"]}/orders → HTTP ${run.status}`);
  process.exitCode = run.status === 200 ? 0 : 1;
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await client.dispose();
}

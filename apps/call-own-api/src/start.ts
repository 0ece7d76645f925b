/**
 * The same daemon against Entra ID (or any Entra-shaped host, such as the emulator) and a
 * real API. Configuration: the AZURE_* variables of @azure/identity's EnvironmentCredential
 * (see @daemon-auth/environment), plus API_SCOPE and API_URL.
 */
import { createDaemonClient } from "@daemon-auth/core";
import { configurationFromEnvironment } from "@daemon-auth/environment";
import { callOrdersApi } from "./daemon.js";

const apiScope = process.env["API_SCOPE"];
const apiUrl = process.env["API_URL"];
let exitCode = 1;
try {
  const config = configurationFromEnvironment();
  if (!apiScope || !apiUrl) {
    throw new Error("Set API_SCOPE (api://<your-api>/.default) and API_URL (the API's base URL).");
  }
  const client = createDaemonClient(config.clientOptions);
  try {
    console.log(`daemon: ${config.describe()}`);
    const run = await callOrdersApi(client, apiUrl, apiScope);
    console.log(`token from ${run.token.source}; ${apiUrl}/orders → HTTP ${run.status}`);
    exitCode = run.status === 200 ? 0 : 1;
  } finally {
    await client.dispose();
  }
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)} (or run 'pnpm demo' for the offline demo)`);
}
process.exitCode = exitCode;

/**
 * `pnpm demo`: the whole story offline. A local identity platform (the emulator)
 * and a protected web API start in-process on free ports; a daemon acquires an
 * app-only token and calls the API twice (network, then cache); a second app
 * without admin consent is refused with 403.
 */
import { createDaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator } from "@daemon-auth/emulator";
import { callOrdersApi, peekClaims, type DaemonRun } from "./daemon.js";
import { startOrdersApi } from "./orders-api.js";

const REPORTING_CLIENT_ID = "7e9a1c3e-5b7d-4f9a-8c1e-3d5f7a9b1c2d";
const REPORTING_SECRET = "reporting-secret-for-the-emulator-only";

const config = demoEmulatorConfig();
// A second app in the same tenant whose admin never consented to Orders.Read.All.
config.applications.push({
  clientId: REPORTING_CLIENT_ID,
  displayName: "reporting daemon (no consent)",
  homeTenant: ids.tenantId,
  secrets: [{ value: REPORTING_SECRET }],
});

const emulator = await startEmulator({ config });
const api = await startOrdersApi({
  issuer: emulator.issuer(ids.tenantId),
  jwksUri: emulator.jwksUri(ids.tenantId),
  audience: ids.apiIdentifierUri,
});

function describeRun(label: string, run: DaemonRun): void {
  const roles = (peekClaims(run.token.accessToken)["roles"] as string[] | undefined) ?? [];
  const outcome =
    run.status === 200
      ? `200 OK, ${(run.body as { value: unknown[] }).value.length} orders`
      : `${run.status} ${(run.body as { error?: { code?: string } }).error?.code ?? ""}`;
  console.log(`${label}`);
  console.log(
    `   token from ${run.token.source.padEnd(7)} roles [${roles.join(", ")}], expires ${run.token.expiresOn.toISOString()}`,
  );
  console.log(`   GET /orders → ${outcome}   (token requests so far: ${emulator.tokenRequestCount()})`);
}

let exitCode = 0;
try {
  console.log("daemon-auth demo: offline, against the local identity platform emulator");
  console.log(`   emulator ${emulator.url}   tenant ${ids.tenantDomain}`);
  console.log(`   web API  ${api.url}/orders   requires the app role Orders.Read.All\n`);

  const ordersDaemon = createDaemonClient({
    authority: emulator.authority(ids.tenantDomain),
    clientId: ids.daemonClientId,
    credential: clientSecret(ids.daemonClientSecret),
  });
  const first = await callOrdersApi(ordersDaemon, api.url, ids.apiScope);
  describeRun("1. orders daemon, first run", first);
  const second = await callOrdersApi(ordersDaemon, api.url, ids.apiScope);
  describeRun("2. orders daemon, second run", second);

  const reportingDaemon = createDaemonClient({
    authority: emulator.authority(ids.tenantDomain),
    clientId: REPORTING_CLIENT_ID,
    credential: clientSecret(REPORTING_SECRET),
  });
  const refused = await callOrdersApi(reportingDaemon, api.url, ids.apiScope);
  describeRun("3. reporting daemon, an app without admin consent", refused);

  const story =
    first.status === 200 &&
    first.token.source === "network" &&
    second.status === 200 &&
    second.token.source === "cache" &&
    refused.status === 403;
  if (story) {
    console.log("\nDone: the token was fetched once and reused; the app without consent got 403 (grant it admin consent).");
  } else {
    console.error("\nThe demo did not go as expected; see the lines above.");
    exitCode = 1;
  }
  await Promise.all([ordersDaemon.dispose(), reportingDaemon.dispose()]);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await api.close();
  await emulator.close();
}
process.exitCode = exitCode;

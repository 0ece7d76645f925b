import { ClientSecretCredential } from "@azure/identity";
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";
import { createDaemonClient, type DaemonClient, type TelemetryHooks } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { authorityMetadata, CLOUD_DISCOVERY_METADATA, type FakeNetwork } from "./fake-network.js";

/** Tenant, app and scope of the in-process scenarios; the fake network accepts anything. */
export const BENCH_IDS = Object.freeze({
  tenantId: "11111111-2222-4333-8444-555555555555",
  clientId: "66666666-7777-4888-9999-aaaaaaaaaaaa",
  secret: "bench-secret-not-a-real-one",
  scope: "https://graph.microsoft.com/.default",
});

/**
 * The `n`th tenant of the many-tenant scenario, a GUID as Entra issues them, as one flat
 * string as a daemon reads it from its configuration or database: a template literal would
 * be a two-part string that the first library to hash it flattens, billing it with a copy.
 */
export function benchTenant(n: number): string {
  return ["00000000-0000-4000-8000-", n.toString(16).padStart(12, "0")].join("");
}

/** A daemon-auth client whose token endpoint is the fake network. */
export function ourClient(network: FakeNetwork, maxCachedTokens?: number, telemetry?: TelemetryHooks): DaemonClient {
  return createDaemonClient({
    tenantId: BENCH_IDS.tenantId,
    clientId: BENCH_IDS.clientId,
    credential: clientSecret(BENCH_IDS.secret),
    transport: network.transport,
    ...(maxCachedTokens === undefined ? {} : { maxCachedTokens }),
    ...(telemetry === undefined ? {} : { telemetry }),
  });
}

/** An msal-node client whose token endpoint is the fake network, with discovery answered from config. */
export function msalClient(network: FakeNetwork): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: BENCH_IDS.clientId,
      clientSecret: BENCH_IDS.secret,
      authority: `https://login.microsoftonline.com/${BENCH_IDS.tenantId}`,
      cloudDiscoveryMetadata: CLOUD_DISCOVERY_METADATA,
      authorityMetadata: authorityMetadata(BENCH_IDS.tenantId),
    },
    system: { networkClient: network.networkClient, loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false } },
  });
}

/** msal-node's per-request authority for tenant `tenant`. */
export function msalAuthority(tenant: string): string {
  return `https://login.microsoftonline.com/${tenant}`;
}

/**
 * An @azure/identity credential whose token endpoint is the fake network; any tenant may be
 * asked for per request, as a multi-tenant daemon does.
 */
export function identityCredential(network: FakeNetwork): ClientSecretCredential {
  return new ClientSecretCredential(BENCH_IDS.tenantId, BENCH_IDS.clientId, BENCH_IDS.secret, {
    httpClient: network.httpClient,
    additionallyAllowedTenants: ["*"],
    retryOptions: { maxRetries: 0 },
  });
}

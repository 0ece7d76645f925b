import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { ConfigurationError, InvalidRequestError, redacted } from "@daemon-auth/core";
import type { AcquireTokenRequest, DaemonClient } from "@daemon-auth/core";
import { toAbortSignal } from "./lib/abort.js";
import { normalizeAzureScopes } from "./lib/scopes.js";

/** Options of {@link toTokenCredential}. */
export interface TokenCredentialOptions {
  /**
   * The tenant to request tokens from when the Azure SDK does not name one in
   * `GetTokenOptions.tenantId`. A GUID or a verified domain.
   * @default the tenant of the client's authority
   */
  tenantId?: string;
  /**
   * Tenants, besides the client's own (or `tenantId`), that `GetTokenOptions.tenantId` may
   * name, as `@azure/identity`'s `additionallyAllowedTenants`; `"*"` allows any. Added to
   * the ones listed in `AZURE_ADDITIONALLY_ALLOWED_TENANTS` (separated by `;` as
   * `@azure/identity` reads it, or `,`). A challenge naming any other tenant is refused, so
   * a resource cannot send the daemon's credential to a tenant of its choosing.
   * @default []
   */
  additionallyAllowedTenants?: readonly string[];
}

/**
 * `@azure/identity`'s own wording, so its users recognise the fix.
 * @see https://github.com/Azure/azure-sdk-for-js/blob/main/sdk/identity/identity/src/util/processMultiTenantRequest.ts
 */
function tenantNotAllowed(tenantId: string): string {
  return (
    `The current credential is not configured to acquire tokens for tenant ${tenantId}. To enable acquiring tokens for this tenant ` +
    `add it to the AdditionallyAllowedTenants on the credential options, or add "*" to AdditionallyAllowedTenants to allow acquiring tokens for any tenant.`
  );
}

/** `AZURE_ADDITIONALLY_ALLOWED_TENANTS`, on runtimes that have `process.env`. */
function allowedTenantsFromEnvironment(): string[] {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["AZURE_ADDITIONALLY_ALLOWED_TENANTS"];
  return value === undefined ? [] : value.split(/[;,]/);
}

/**
 * Wraps a {@link DaemonClient} as an `@azure/core-auth` `TokenCredential`, so any Azure
 * SDK client (`SecretClient`, `BlobServiceClient`, `ServiceBusClient`, …) gets its
 * app-only tokens through daemon-auth: the same cache, credentials, retries and telemetry
 * as the rest of the daemon.
 *
 * - `scopes` may be a string or an array. A bare resource URL such as
 *   `https://vault.azure.net` or `https://management.azure.com/` is turned into
 *   `<resource>/.default` (keeping the double slash of v1.0 resources); any other scope
 *   is passed to core unchanged and validated there.
 * - `GetTokenOptions.tenantId`, `claims` and `abortSignal` are forwarded; `tenantId`
 *   falls back to `options.tenantId`, then to the client's own tenant. Another tenant is
 *   refused unless listed in `additionallyAllowedTenants` (or
 *   `AZURE_ADDITIONALLY_ALLOWED_TENANTS`), with `@azure/identity`'s message. A client
 *   without tenants (`client.tenantId` undefined: a managed identity client, a generic
 *   issuer) gets no `tenantId` at all, as `ManagedIdentityCredential` ignores it, so Key
 *   Vault's challenge works over a managed identity.
 * - `enableCae` (which the Azure SDK's bearer-token policy sets on every request) asks
 *   core for a CAE-capable token: the client capability `cp1` is sent, and the token is
 *   cached apart from tokens requested without it, so a CAE token never reaches a caller
 *   that cannot answer a claims challenge, nor a plain token one that asked for CAE.
 *   `claims` (a challenge from the resource) always gets a fresh token, never the cached
 *   one the resource just refused.
 * - Failures are core's typed errors (`CredentialError`, `ThrottledError`, `AbortError`, …);
 *   the Azure SDK bearer-token policy rethrows them to the caller unchanged.
 * - Proof-of-possession tokens are not issued by the client credentials grant; a
 *   request for one is refused with an {@link InvalidRequestError}.
 *
 * The credential holds no token itself (the client's cache does) and prints as
 * `DaemonAuthTokenCredential(<clientId>)` in `util.inspect` and `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { SecretClient } from "@azure/keyvault-secrets";
 * import { createDaemonClient } from "@daemon-auth/core";
 * import { clientSecretFromEnvironment } from "@daemon-auth/credential-secret";
 * import { toTokenCredential } from "@daemon-auth/azure";
 *
 * const client = createDaemonClient({ tenantId, clientId, credential: clientSecretFromEnvironment() });
 * const secrets = new SecretClient("https://my-vault.vault.azure.net", toTokenCredential(client));
 * ```
 *
 * @see https://learn.microsoft.com/javascript/api/@azure/core-auth/tokencredential
 */
export function toTokenCredential(client: DaemonClient, options: TokenCredentialOptions = {}): TokenCredential {
  if (client === null || typeof client !== "object" || typeof client.acquireTokenForClient !== "function") {
    throw new ConfigurationError(
      "toTokenCredential: 'client' is not a DaemonClient. Pass the object returned by createDaemonClient(...).",
    );
  }
  const defaultTenant = options.tenantId;
  if (defaultTenant !== undefined && (typeof defaultTenant !== "string" || defaultTenant.trim() === "")) {
    throw new ConfigurationError(
      "toTokenCredential: 'tenantId' is empty. Pass the tenant GUID or domain, or leave it out to use the client's tenant.",
    );
  }

  const listed: unknown = options.additionallyAllowedTenants ?? [];
  if (!Array.isArray(listed) || !listed.every((tenant): tenant is string => typeof tenant === "string")) {
    throw new ConfigurationError("toTokenCredential: 'additionallyAllowedTenants' must be a list of tenant ids or domains, or [\"*\"].");
  }
  const allowed = new Set([...listed, ...allowedTenantsFromEnvironment()].map((tenant) => tenant.trim().toLowerCase()).filter(Boolean));
  // The bridge's tenant and the client's are both the credential's own, as @azure/identity's is.
  for (const own of [defaultTenant, client.tenantId]) if (own !== undefined) allowed.add(own.toLowerCase());

  // A client without tenants (a managed identity, a generic issuer) has one identity:
  // a challenge's tenant is not forwarded, as @azure/identity's ManagedIdentityCredential
  // ignores it. Nothing goes to another tenant, so there is nothing to allow-list.
  const tenantless = defaultTenant === undefined && client.tenantId === undefined;

  /** The tenant to ask, refusing one the credential was not told to trust. */
  function resolveTenant(requested: string | undefined): string | undefined {
    if (requested === undefined || tenantless) return defaultTenant;
    const wanted = requested.toLowerCase();
    if (!allowed.has("*") && !allowed.has(wanted)) throw new ConfigurationError(tenantNotAllowed(requested));
    return requested;
  }

  async function getToken(scopes: string | string[], getTokenOptions: GetTokenOptions = {}): Promise<AccessToken> {
    if (getTokenOptions.proofOfPossessionOptions !== undefined) {
      throw new InvalidRequestError(
        "The client credentials grant issues bearer tokens only; this resource asked for a proof-of-possession (PoP) token. " +
          "Use a bearer-token endpoint of the service, or @azure/identity's ClientSecretCredential for PoP.",
      );
    }
    const request: AcquireTokenRequest = { scopes: normalizeAzureScopes(scopes) };
    const tenantId = resolveTenant(getTokenOptions.tenantId);
    if (tenantId !== undefined) request.tenantId = tenantId;
    if (getTokenOptions.claims !== undefined) request.claims = getTokenOptions.claims;
    // Core keeps CAE tokens apart (their own cache key): the simplest way for one client to
    // serve both kinds of caller, as @azure/identity keeps a CAE MSAL app beside the plain one.
    if (getTokenOptions.enableCae === true) request.enableCae = true;
    const abort = toAbortSignal(getTokenOptions.abortSignal);
    if (abort.signal !== undefined) request.signal = abort.signal;
    try {
      const result = await client.acquireTokenForClient(request);
      return {
        token: result.accessToken,
        expiresOnTimestamp: result.expiresOn.getTime(),
        refreshAfterTimestamp: result.refreshOn.getTime(),
        tokenType: "Bearer",
      };
    } finally {
      abort.release();
    }
  }

  return redacted({ getToken }, `DaemonAuthTokenCredential(${client.clientId})`);
}

// Discovery: the OpenID metadata and JWKS of each tenant, MSAL's instance
// discovery and the external issuer's documents, in the shapes Entra ID serves
// and MSAL reads.
import { AadstsFailure } from "../aadsts.js";
import { NON_TENANTS } from "../identifiers.js";
import type { Directory } from "../lib/directory.js";
import { EXTERNAL_SEGMENT, externalIssuerMetadata, externalJwks } from "../lib/external-issuer.js";
import type { TokenSigner } from "../lib/signing-key.js";
import { resolveTenantSegment } from "../lib/tenant-segment.js";
import { entraError, json, type Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import { tenantPath, type EmulatorRequest } from "../server/request.js";

const METADATA_TAILS: ReadonlySet<string> = new Set(["v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"]);
const KEYS_TAILS: ReadonlySet<string> = new Set(["discovery/v2.0/keys", "discovery/keys"]);

/** The v2.0 OpenID Provider metadata for a tenant id, or `{tenantid}` for common/organizations/consumers. */
export function openIdConfiguration(baseUrl: string, tenantId: string, pathTenant: string, issuerBase = baseUrl): Record<string, unknown> {
  const tenantUrl = `${baseUrl}/${tenantId}`;
  return {
    token_endpoint: `${tenantUrl}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    token_endpoint_auth_signing_alg_values_supported: ["PS256", "RS256"],
    jwks_uri: `${baseUrl}/${pathTenant}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    grant_types_supported: ["client_credentials"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${issuerBase}/${tenantId}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${tenantUrl}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${tenantUrl}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${tenantUrl}/oauth2/v2.0/logout`,
    claims_supported: ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
    kerberos_endpoint: `${tenantUrl}/kerberos`,
    tenant_region_scope: null,
    cloud_instance_name: new URL(baseUrl).host,
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
    rbac_url: "https://pas.windows.net",
  };
}

/**
 * The instance discovery document (`/common/discovery/instance`): MSAL takes
 * the emulator host as its own cloud, its preferred network and cache alias.
 */
export function instanceDiscovery(baseUrl: string, authorizationEndpoint: string | null): Record<string, unknown> {
  const host = new URL(baseUrl).host;
  let tenant = "common";
  if (authorizationEndpoint !== null) {
    try {
      tenant = new URL(authorizationEndpoint).pathname.split("/").filter(Boolean)[0] ?? "common";
    } catch {
      // A malformed parameter falls back to common, as the real service does.
    }
  }
  return {
    tenant_discovery_endpoint: `${baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}

/** GET /{tenant}/discovery/instance: MSAL's instance discovery. */
export const instanceDiscoveryRoute: Route = {
  handle: async (request) => json(200, instanceDiscovery(request.baseUrl, request.query.get("authorization_endpoint"))),
};

/** GET /{tenant}/v2.0/.well-known/openid-configuration and /{tenant}/discovery/v2.0/keys (and their v1 spellings). */
export class TenantMetadataRoute implements Route {
  constructor(
    private readonly directory: Directory,
    private readonly signer: TokenSigner,
  ) {}

  /** Whether a tenant path's tail names the metadata document or the keys. */
  static matches(tail: string): boolean {
    return METADATA_TAILS.has(tail) || KEYS_TAILS.has(tail);
  }

  async handle(request: EmulatorRequest): Promise<Answer> {
    const { tenant = "", tail } = tenantPath(request);
    let tenantId = "{tenantid}";
    if (!NON_TENANTS.has(tenant.toLowerCase())) {
      try {
        tenantId = resolveTenantSegment(this.directory, tenant).id;
      } catch (error) {
        if (!(error instanceof AadstsFailure)) throw error;
        // Entra names the OAuth error invalid_tenant on its metadata endpoints.
        return entraError(error, request, { error: "invalid_tenant" });
      }
    }
    const body = METADATA_TAILS.has(tail)
      ? openIdConfiguration(request.baseUrl, tenantId, tenant, request.issuerBase)
      : { keys: [this.signer.jwk(`${request.issuerBase}/${tenantId}/v2.0`)] };
    return json(200, body, { "Cache-Control": "max-age=86400, private", "Access-Control-Allow-Origin": "*" });
  }
}

/** GET /external/.well-known/openid-configuration and /external/keys: the emulator as an external OpenID issuer. */
export class ExternalIssuerRoute implements Route {
  constructor(private readonly signer: TokenSigner) {}

  /** Whether a path is one of the external issuer's documents. */
  static matches(request: EmulatorRequest): boolean {
    const { tenant, tail } = tenantPath(request);
    return tenant === EXTERNAL_SEGMENT && request.method === "GET" && (tail === ".well-known/openid-configuration" || tail === "keys");
  }

  async handle(request: EmulatorRequest): Promise<Answer> {
    const keys = tenantPath(request).tail === "keys";
    const body = keys ? externalJwks(this.signer) : externalIssuerMetadata(`${request.baseUrl}/${EXTERNAL_SEGMENT}`);
    return json(200, body, { "Cache-Control": "max-age=300, private" });
  }
}

// POST /{tenant}/oauth2/v2.0/token for grant_type=client_credentials, with the
// checks in the order Entra ID applies them and its error codes.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { AadstsFailure } from "../aadsts.js";
import { validateClientAssertion } from "./client-assertion.js";
import { CLAIMS_MARKER } from "./graph.js";
import { federatedIssuer, validateFederatedAssertion, type IssuerKeys } from "./federated-assertion.js";
import { isDomainName, isGuid, type TenantConfig } from "../config.js";
import { Directory, normalizeClientId, type ApplicationState } from "./directory.js";
import { recordSecret } from "./secret-ledger.js";
import type { TokenSigner } from "./signing-key.js";

export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const NON_TENANTS = new Set(["common", "organizations", "consumers"]);

/** Fields of the request log a token request fills in. */
export interface TokenRequestFacts {
  clientId?: string;
  scope?: string;
  grantType?: string;
  clientAuth?: "secret_post" | "secret_basic" | "assertion" | "none";
}

/** Everything a token request is evaluated against. */
export interface TokenRequest {
  directory: Directory;
  signer: TokenSigner;
  baseUrl: string;
  /** Origins (scheme://host:port) the client may have used, for the assertion audience. */
  origins: readonly string[];
  tenantSegment: string;
  body: string;
  contentType: string | undefined;
  authorization: string | undefined;
  now: number;
  tokenLifetimeSeconds: number;
  refreshInSeconds: number | undefined;
  seenJtis: Map<string, number> | undefined;
  /** Keys of external issuers, for federated credentials. */
  issuerKeys: IssuerKeys;
  facts: TokenRequestFacts;
}

/** A successful token response body. */
export interface TokenResponseBody {
  token_type: "Bearer";
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_in?: number;
}

/** Resolves the `{tenant}` path segment or fails with the code Entra uses. */
export function resolveTenantSegment(directory: Directory, segment: string): TenantConfig {
  const lower = segment.toLowerCase();
  if (NON_TENANTS.has(lower)) {
    throw new AadstsFailure(
      50059,
      `No tenant-identifying information found in either the request or implied by any provided credentials. The client credentials flow needs a concrete tenant: use the tenant id or a verified domain instead of '${segment}'.`,
    );
  }
  if (!isGuid(segment) && !isDomainName(segment)) {
    throw new AadstsFailure(900023, `Specified tenant identifier '${segment}' is neither a valid DNS name, nor a valid external domain.`);
  }
  const tenant = directory.resolveTenant(segment);
  if (tenant === undefined) {
    throw new AadstsFailure(
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }
  return tenant;
}

function malformed(detail: string): AadstsFailure {
  return new AadstsFailure(9002313, `Invalid request. Request is malformed or invalid. (${detail})`);
}

function missing(parameter: string): AadstsFailure {
  return new AadstsFailure(900144, `The request body must contain the following parameter: '${parameter}'.`);
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, " "));
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
export function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) throw malformed("the Authorization header must be 'Basic base64(client_id:client_secret)'");
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw malformed("the Basic credentials must be client_id:client_secret");
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw malformed("the Basic credentials are not form-urlencoded as RFC 6749 section 2.3.1 requires");
  }
}

function sameSecret(a: string, b: string): boolean {
  const hash = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(hash(a), hash(b));
}

function tenantName(tenant: TenantConfig, segment: string): string {
  return tenant.displayName ?? segment;
}

/** The resource named by a scope: `api://orders/.default` → `api://orders`; `https://x.example//.default` → `https://x.example/`. */
function parseScope(scope: string | null): string {
  if (scope === null || scope.trim() === "") {
    throw new AadstsFailure(
      70011,
      "The provided value for the input parameter 'scope' is not valid. The scope is missing. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
    );
  }
  const resources = new Set<string>();
  for (const item of scope.trim().split(/\s+/)) {
    if (!item.endsWith("/.default") || item.length === "/.default".length) {
      throw new AadstsFailure(
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    resources.add(item.slice(0, -"/.default".length));
  }
  if (resources.size > 1) {
    throw new AadstsFailure(700022, `The provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`);
  }
  return [...resources][0]!;
}

function authenticateSecret(app: ApplicationState, secret: string, now: number): void {
  const matches = app.secrets.filter((known) => sameSecret(known.value, secret));
  if (matches.length === 0) {
    throw new AadstsFailure(
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.config.clientId}'.`,
    );
  }
  const live = matches.some((known) => known.expiresAt === undefined || Date.parse(known.expiresAt) > now);
  if (!live) {
    throw new AadstsFailure(
      7000222,
      `The provided client secret keys for app '${app.config.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    );
  }
}

/** Evaluates a token request; throws an {@link AadstsFailure} for every refusal. */
export async function handleTokenRequest(request: TokenRequest): Promise<TokenResponseBody> {
  const { directory, facts, now } = request;
  const tenant = resolveTenantSegment(directory, request.tenantSegment);

  const isForm = (request.contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
  const form = new URLSearchParams(isForm ? request.body : "");
  const names = [...form.keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw malformed(`parameter '${repeated}' was sent more than once`);

  const grantType = form.get("grant_type");
  if (grantType !== null) facts.grantType = grantType;
  if (grantType === null || grantType === "") throw missing("grant_type");
  if (grantType !== "client_credentials") {
    throw new AadstsFailure(70003, `The app requested an unsupported grant type '${grantType}'. This emulator implements the client credentials grant only.`);
  }

  const basic = request.authorization === undefined ? undefined : parseBasic(request.authorization);
  // Right or wrong, what the client sent is secret: a test run checks none of it leaked.
  recordSecret("client secret", basic?.secret ?? form.get("client_secret"));
  recordSecret("client assertion", form.get("client_assertion"));
  const bodyClientId = form.get("client_id");
  if (basic !== undefined && bodyClientId !== null && normalizeClientId(bodyClientId) !== normalizeClientId(basic.clientId)) {
    throw malformed("client_id in the body differs from the one in the Authorization header");
  }
  const clientId = basic?.clientId ?? bodyClientId;
  if (clientId !== null && clientId !== "") facts.clientId = clientId;
  const scope = form.get("scope");
  if (scope !== null) facts.scope = scope;
  const claimsRequest = form.get("claims");
  if (claimsRequest !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(claimsRequest);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw malformed("the claims parameter must be a JSON object");
  }

  const methods: ("secret_post" | "secret_basic" | "assertion")[] = [];
  if (form.get("client_secret") !== null) methods.push("secret_post");
  if (basic !== undefined) methods.push("secret_basic");
  if (form.get("client_assertion") !== null) methods.push("assertion");
  facts.clientAuth = methods[0] ?? "none";

  if (clientId === null || clientId === "") throw missing("client_id");
  const resourceName = parseScope(scope);

  const app = directory.application(clientId);
  if (app === undefined || !directory.hasServicePrincipal(app, tenant.id)) {
    throw new AadstsFailure(
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantName(tenant, request.tenantSegment)}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  if (methods.length > 1) throw malformed(`use one client authentication method, not ${methods.join(" and ")}`);
  const method = methods[0];
  if (method === undefined) {
    throw new AadstsFailure(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  if (method === "secret_post") authenticateSecret(app, form.get("client_secret") ?? "", now);
  if (method === "secret_basic") authenticateSecret(app, basic?.secret ?? "", now);
  if (method === "assertion") {
    const assertionType = form.get("client_assertion_type");
    if (assertionType === null) throw missing("client_assertion_type");
    if (assertionType !== JWT_BEARER) throw malformed(`client_assertion_type must be ${JWT_BEARER}`);
    const assertion = form.get("client_assertion") ?? "";
    const issuer = federatedIssuer(assertion, app.config.clientId);
    if (issuer !== undefined) {
      await validateFederatedAssertion({ assertion, issuer, app, keys: request.issuerKeys, now });
    } else {
      const aliases = [tenant.id, ...(tenant.domains ?? [])];
      const audiences = new Set<string>();
      for (const origin of request.origins) {
        for (const alias of aliases) {
          audiences.add(`${origin}/${alias}/oauth2/v2.0/token`.toLowerCase());
          audiences.add(`${origin}/${alias}/oauth2/token`.toLowerCase());
        }
      }
      await validateClientAssertion({
        assertion,
        app,
        audiences,
        expectedAudience: `${request.baseUrl}/${request.tenantSegment}/oauth2/v2.0/token`,
        now,
        ...(request.seenJtis === undefined ? {} : { seenJtis: request.seenJtis }),
      });
    }
  }
  // Entra's authentication context class: 1 = shared secret, 2 = certificate/assertion.
  const azpacr = method === "assertion" ? "2" : "1";

  const resource = directory.findResource(resourceName);
  if (resource === undefined || !directory.hasServicePrincipal(resource, tenant.id)) {
    throw new AadstsFailure(
      500011,
      `The resource principal named ${resourceName} was not found in the tenant named ${tenantName(tenant, request.tenantSegment)}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }

  const roles = directory.roles(tenant.id, app.config.clientId, resource);
  const iat = Math.floor(now / 1000);
  const servicePrincipal = Directory.servicePrincipalId(app.config.clientId, tenant.id);
  const uti = randomBytes(16).toString("base64url");
  const claims: Record<string, unknown> = {
    // A resource named by its client id gets the client id as audience (Entra v2.0 tokens do).
    aud: resource.config.clientId === normalizeClientId(resourceName) ? resource.config.clientId : resourceName,
    iss: `${request.baseUrl}/${tenant.id}/v2.0`,
    iat,
    nbf: iat,
    exp: iat + request.tokenLifetimeSeconds,
    azp: app.config.clientId,
    azpacr,
    appid: app.config.clientId,
    appidacr: azpacr,
    idtyp: "app",
    oid: servicePrincipal,
    ...(roles.length > 0 ? { roles } : {}),
    // Lets a resource that raised a claims challenge tell a token that answered it.
    ...(claimsRequest === null ? {} : { [CLAIMS_MARKER]: iat }),
    sub: servicePrincipal,
    tid: tenant.id,
    uti,
    jti: uti,
    ver: "2.0",
  };
  const body: TokenResponseBody = {
    token_type: "Bearer",
    expires_in: request.tokenLifetimeSeconds,
    ext_expires_in: request.tokenLifetimeSeconds,
    access_token: await request.signer.sign(claims),
  };
  if (request.refreshInSeconds !== undefined) body.refresh_in = request.refreshInSeconds;
  recordSecret("access token", body.access_token);
  return body;
}

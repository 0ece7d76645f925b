// The client credentials grant (POST /{tenant}/oauth2/v2.0/token), with the
// checks in the order Entra ID applies them and its error codes.
import { createHash, timingSafeEqual } from "node:crypto";
import { AadstsFailure, malformedRequest } from "../aadsts.js";
import type { TenantConfig } from "../config/types.js";
import { normalizeClientId } from "../identifiers.js";
import type { NotedFacts } from "../server/request.js";
import { issueAccessToken, type TokenResponseBody } from "./access-token.js";
import { parseBasic } from "./basic-auth.js";
import { validateClientAssertion } from "./client-assertion.js";
import type { ApplicationState, Directory } from "./directory.js";
import { federatedIssuer, validateFederatedAssertion, type IssuerKeys } from "./federated-assertion.js";
import { recordSecret } from "./secret-ledger.js";
import type { TokenSigner } from "./signing-key.js";
import { resolveTenantSegment } from "./tenant-segment.js";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEFAULT_SUFFIX = "/.default";
const SCOPE_RULE = "Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).";

/** What every token request is evaluated against. */
export interface GrantSettings {
  directory: Directory;
  signer: TokenSigner;
  tokenLifetimeSeconds: number;
  refreshInSeconds: number | undefined;
  /** When given, a client assertion's `jti` is accepted once: jti → expiry (ms). */
  seenJtis: Map<string, number> | undefined;
  /** Keys of external issuers, for federated credentials. */
  issuerKeys: IssuerKeys;
}

/** One token request. */
export interface GrantRequest {
  baseUrl: string;
  /** The origin of the tokens' issuer (see `EmulatorRequest.issuerBase`). */
  issuerBase: string;
  /** Origins (scheme://host:port) the client may have used, for the assertion audience. */
  origins: readonly string[];
  tenantSegment: string;
  body: string;
  contentType: string | undefined;
  authorization: string | undefined;
  now: number;
  /** Receives what the request revealed (client, scope, grant type, authentication), for the request log. */
  note(facts: NotedFacts): void;
}

function missing(parameter: string): AadstsFailure {
  return new AadstsFailure(900144, `The request body must contain the following parameter: '${parameter}'.`);
}

function sameSecret(a: string, b: string): boolean {
  const hash = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(hash(a), hash(b));
}

function tenantName(tenant: TenantConfig, segment: string): string {
  return tenant.displayName ?? segment;
}

/**
 * The resource named by a scope: `api://orders/.default` → `api://orders`; `https://x.example//.default` → `https://x.example/`.
 * A missing scope or one naming no resource is AADSTS70011; a scope without `/.default` is AADSTS1002012, as Entra answers.
 */
function parseScope(scope: string | null): string {
  if (scope === null || scope.trim() === "") {
    throw new AadstsFailure(70011, `The provided value for the input parameter 'scope' is not valid. The scope is missing. ${SCOPE_RULE}`);
  }
  const resources = new Set<string>();
  for (const item of scope.trim().split(/\s+/)) {
    if (!item.endsWith(DEFAULT_SUFFIX)) {
      throw new AadstsFailure(1002012, `The provided value for scope ${item} is not valid. ${SCOPE_RULE}`);
    }
    if (item.length === DEFAULT_SUFFIX.length) {
      throw new AadstsFailure(70011, `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid. ${SCOPE_RULE}`);
    }
    resources.add(item.slice(0, -DEFAULT_SUFFIX.length));
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

/** Checks the claims parameter; returns the client capabilities it declares (`access_token.xms_cc.values`). */
function checkClaimsParameter(claimsRequest: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(claimsRequest);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw malformedRequest("the claims parameter must be a JSON object");
  const values = (parsed as { access_token?: { xms_cc?: { values?: unknown } } }).access_token?.xms_cc?.values;
  return Array.isArray(values) ? values.filter((value): value is string => typeof value === "string") : [];
}

async function authenticateAssertion(settings: GrantSettings, request: GrantRequest, form: URLSearchParams, app: ApplicationState, tenant: TenantConfig): Promise<void> {
  const assertionType = form.get("client_assertion_type");
  if (assertionType === null) throw missing("client_assertion_type");
  if (assertionType !== JWT_BEARER) throw malformedRequest(`client_assertion_type must be ${JWT_BEARER}`);
  const assertion = form.get("client_assertion") ?? "";
  const { now } = request;
  const issuer = federatedIssuer(assertion, app.config.clientId, settings.issuerKeys);
  if (issuer !== undefined) {
    await validateFederatedAssertion({ assertion, issuer, app, keys: settings.issuerKeys, now });
    return;
  }
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
    ...(settings.seenJtis === undefined ? {} : { seenJtis: settings.seenJtis }),
  });
}

/** Evaluates a client credentials token request; throws an {@link AadstsFailure} for every refusal. */
export async function grantClientCredentials(settings: GrantSettings, request: GrantRequest): Promise<TokenResponseBody> {
  const { directory } = settings;
  const { now } = request;
  const tenant = resolveTenantSegment(directory, request.tenantSegment);

  const isForm = (request.contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
  const form = new URLSearchParams(isForm ? request.body : "");
  const names = [...form.keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw malformedRequest(`parameter '${repeated}' was sent more than once`);

  const grantType = form.get("grant_type");
  request.note({ grantType: grantType ?? undefined });
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
    throw malformedRequest("client_id in the body differs from the one in the Authorization header");
  }
  const clientId = basic?.clientId ?? bodyClientId;
  const scope = form.get("scope");
  request.note({ clientId: clientId === null || clientId === "" ? undefined : clientId, scope: scope ?? undefined });
  const claimsRequest = form.get("claims");
  const capabilities = claimsRequest === null ? [] : checkClaimsParameter(claimsRequest);

  const methods: ("secret_post" | "secret_basic" | "assertion")[] = [];
  if (form.get("client_secret") !== null) methods.push("secret_post");
  if (basic !== undefined) methods.push("secret_basic");
  if (form.get("client_assertion") !== null) methods.push("assertion");
  request.note({ clientAuth: methods[0] ?? "none" });

  if (clientId === null || clientId === "") throw missing("client_id");
  const resourceName = parseScope(scope);

  const app = directory.application(clientId);
  if (app === undefined || !directory.hasServicePrincipal(app, tenant.id)) {
    throw new AadstsFailure(
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantName(tenant, request.tenantSegment)}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  if (methods.length > 1) throw malformedRequest(`use one client authentication method, not ${methods.join(" and ")}`);
  const method = methods[0];
  if (method === undefined) {
    throw new AadstsFailure(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  if (method === "secret_post") authenticateSecret(app, form.get("client_secret") ?? "", now);
  if (method === "secret_basic") authenticateSecret(app, basic?.secret ?? "", now);
  if (method === "assertion") await authenticateAssertion(settings, request, form, app, tenant);

  const resource = directory.findResource(resourceName);
  if (resource === undefined || !directory.hasServicePrincipal(resource, tenant.id)) {
    throw new AadstsFailure(
      500011,
      `The resource principal named ${resourceName} was not found in the tenant named ${tenantName(tenant, request.tenantSegment)}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }

  return issueAccessToken(settings.signer, {
    issuerBase: request.issuerBase,
    tenant,
    client: app,
    resource,
    resourceName,
    roles: directory.roles(tenant.id, app.config.clientId, resource),
    authenticationClass: method === "assertion" ? "2" : "1",
    answersClaims: claimsRequest !== null,
    clientCapabilities: capabilities,
    now,
    lifetimeSeconds: settings.tokenLifetimeSeconds,
    refreshInSeconds: settings.refreshInSeconds,
  });
}

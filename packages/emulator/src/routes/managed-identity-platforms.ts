// How each Azure host's managed identity endpoint checks a request, reads its
// parameters and shapes its answers: IMDS, App Service, Cloud Shell, Azure Arc and
// Service Fabric.
// The token itself is the same everywhere (lib/managed-identity-token.ts).
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { AADSTS_CODES, type AadstsFailure } from "../aadsts.js";
import type { ArcKeyFiles } from "../lib/arc-key-files.js";
import type { IdentityMiss, IdentitySelector, ManagedIdentityToken } from "../lib/managed-identity-token.js";
import { json, NO_STORE, type Answer } from "../server/answer.js";
import type { EmulatorRequest } from "../server/request.js";

const IMDS_FIRST_API_VERSION = "2018-02-01";
const APP_SERVICE_API_VERSION = "2019-08-01";
const ARC_API_VERSIONS = new Set(["2019-11-01", "2020-06-01"]);
const SERVICE_FABRIC_API_VERSION = "2019-07-01-preview";
const API_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/** How one platform checks, reads and answers a token request. */
export interface Platform {
  /** The one method the endpoint answers. */
  readonly method: "GET" | "POST";
  /** Parameters naming a user-assigned identity. */
  readonly selectors: Readonly<Record<string, IdentitySelector["kind"]>>;
  /** Where the request's parameters are: the query, or a form body (Cloud Shell). */
  parameters(request: EmulatorRequest): Promise<URLSearchParams>;
  /** The platform's refusal of a malformed or unauthenticated request, if any. */
  refuse(request: EmulatorRequest, parameters: URLSearchParams): Promise<Answer | undefined>;
  /** The platform's answer for a request that names no identity it holds. */
  miss(miss: IdentityMiss | "several"): Answer;
  /** Entra's refusal, as the platform relays it. */
  failure(failure: AadstsFailure): Answer;
  success(token: ManagedIdentityToken, selector: IdentitySelector | undefined): Answer;
}

/** The OAuth error and HTTP status Entra pairs with a failure's code. */
const codeInfo = (failure: AadstsFailure): { error: string; status: number } => AADSTS_CODES[failure.aadsts] ?? { error: "invalid_request", status: 400 };

const fromQuery = (request: EmulatorRequest): Promise<URLSearchParams> => Promise.resolve(request.query);

const imdsError = (description: string, status = 400): Answer => json(status, { error: "invalid_request", error_description: description }, NO_STORE);

/** Which api-versions an IMDS-like endpoint takes, and how to say so. */
interface VersionRule {
  ok(version: string): boolean;
  hint: string;
}

/** IMDS checks the header first (its defence against server-side request forgery), then the version and the resource. */
function imdsChecks(request: EmulatorRequest, parameters: URLSearchParams, versions: VersionRule | undefined): Answer | undefined {
  if (request.headers.metadata !== "true") return imdsError("Required metadata header not specified");
  if (versions !== undefined) {
    const version = parameters.get("api-version");
    if (version === null || version === "") return imdsError("Required query variable 'api-version' is missing");
    if (!versions.ok(version)) return imdsError(`Invalid version; use ${versions.hint}`);
  }
  if ((parameters.get("resource") ?? "") === "") return imdsError("Required query variable 'resource' is missing");
  return undefined;
}

function imdsMiss(miss: IdentityMiss | "several"): Answer {
  if (miss === "several") return imdsError("Specify at most one of client_id, object_id and msi_res_id");
  if (miss === "ambiguous") return imdsError("Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request");
  return imdsError("Identity not found");
}

function imdsFailure(failure: AadstsFailure): Answer {
  const { error, status } = codeInfo(failure);
  return json(status, { error, error_description: `AADSTS${failure.aadsts}: ${failure.message}`, error_codes: [failure.aadsts] }, NO_STORE);
}

/** IMDS's token answer: every number a string. */
function imdsBody(token: ManagedIdentityToken): Record<string, string> {
  return {
    access_token: token.accessToken,
    client_id: token.clientId,
    expires_in: String(token.expiresIn),
    expires_on: String(token.expiresOn),
    ext_expires_in: String(token.expiresIn),
    not_before: String(token.notBefore),
    resource: token.resource,
    token_type: "Bearer",
  };
}

const IMDS_SELECTORS = { client_id: "clientId", object_id: "objectId", msi_res_id: "resourceId" } as const;

/** IMDS: `Metadata: true`, api-version 2018-02-01 or later, `{ error, error_description }` errors. */
export const imds: Platform = {
  method: "GET",
  selectors: IMDS_SELECTORS,
  parameters: fromQuery,
  refuse: async (request, parameters) =>
    imdsChecks(request, parameters, { ok: (version) => API_VERSION.test(version) && version >= IMDS_FIRST_API_VERSION, hint: `api-version=${IMDS_FIRST_API_VERSION} or later` }),
  miss: imdsMiss,
  failure: imdsFailure,
  success: (token) => json(200, imdsBody(token), NO_STORE),
};

/** Cloud Shell: a POST form with `resource` and `Metadata: true`; the session's (system-assigned) identity only. */
export const cloudShell: Platform = {
  method: "POST",
  selectors: {},
  parameters: async (request) => new URLSearchParams((await request.text()) ?? ""),
  refuse: async (request, parameters) => imdsChecks(request, parameters, undefined),
  miss: imdsMiss,
  failure: imdsFailure,
  success: (token) => json(200, imdsBody(token), NO_STORE),
};

/**
 * Azure Arc: IMDS's request on the agent's endpoint, first answered 401 with
 * `WWW-Authenticate: Basic realm=<key file>`, then accepted with `Authorization: Basic <key>`.
 * The answer echoes a user-assigned identity's id, which msal-node checks.
 */
export function azureArc(keys: ArcKeyFiles): Platform {
  return {
    method: "GET",
    selectors: IMDS_SELECTORS,
    parameters: fromQuery,
    async refuse(request, parameters) {
      const invalid = imdsChecks(request, parameters, { ok: (version) => ARC_API_VERSIONS.has(version), hint: `api-version=${[...ARC_API_VERSIONS].join(" or ")}` });
      if (invalid !== undefined) return invalid;
      if (keys.accepts(request.headers.authorization)) return undefined;
      const path = await keys.challenge();
      const description = "Unauthorized: read the key file named in WWW-Authenticate and send its content as Authorization: Basic <key>";
      return json(401, { error: "invalid_request", error_description: description }, { ...NO_STORE, "WWW-Authenticate": `Basic realm=${path}` });
    },
    miss: imdsMiss,
    failure: imdsFailure,
    success(token, selector) {
      const echo = selector?.kind === "objectId" ? { object_id: selector.value } : selector?.kind === "resourceId" ? { msi_res_id: selector.value } : {};
      return json(200, { ...imdsBody(token), ...echo }, NO_STORE);
    },
  };
}

const appServiceError = (status: number, message: string): Answer => json(status, { statusCode: status, message, correlationId: randomUUID() }, NO_STORE);

function sameSecret(a: string, b: string): boolean {
  const hash = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(hash(a), hash(b));
}

/** App Service: `X-IDENTITY-HEADER`, api-version 2019-08-01, `{ statusCode, message, correlationId }` errors. */
export function appService(identityHeader: string): Platform {
  return {
    method: "GET",
    // msal-node sends object_id and @azure/identity's docs name principal_id; msi_res_id is IMDS's name.
    selectors: { client_id: "clientId", principal_id: "objectId", object_id: "objectId", mi_res_id: "resourceId", msi_res_id: "resourceId" },
    parameters: fromQuery,
    async refuse(request, parameters) {
      const presented = request.headers["x-identity-header"];
      if (typeof presented !== "string" || presented === "") return appServiceError(401, "The X-IDENTITY-HEADER header is missing: send the value of IDENTITY_HEADER.");
      if (!sameSecret(presented, identityHeader)) return appServiceError(401, "The X-IDENTITY-HEADER header does not match: send the value of IDENTITY_HEADER.");
      if (parameters.get("api-version") !== APP_SERVICE_API_VERSION) return appServiceError(400, `Only api-version=${APP_SERVICE_API_VERSION} is supported.`);
      if ((parameters.get("resource") ?? "") === "") return appServiceError(400, "The 'resource' parameter is required.");
      return undefined;
    },
    miss(miss) {
      return miss === "several" ? appServiceError(400, "Specify at most one of client_id, principal_id and mi_res_id.") : appServiceError(400, "Unable to load the proper Managed Identity.");
    },
    failure(failure) {
      return appServiceError(codeInfo(failure).status, `AADSTS${failure.aadsts}: ${failure.message}`);
    },
    success(token) {
      return json(
        200,
        { access_token: token.accessToken, expires_on: String(token.expiresOn), resource: token.resource, token_type: "Bearer", client_id: token.clientId },
        NO_STORE,
      );
    },
  };
}

const serviceFabricError = (status: number, code: string, message: string): Answer => json(status, { error: { correlationId: randomUUID(), code, message } }, NO_STORE);

/**
 * Service Fabric: the `secret` header (the `IDENTITY_HEADER` value), api-version
 * 2019-07-01-preview, `{ error: { code, message } }` errors and `expires_on` as a number.
 * The endpoint is HTTPS; clients pin its certificate by `IDENTITY_SERVER_THUMBPRINT`.
 */
export function serviceFabric(identityHeader: string): Platform {
  return {
    method: "GET",
    selectors: { client_id: "clientId", object_id: "objectId", principal_id: "objectId", mi_res_id: "resourceId" },
    parameters: fromQuery,
    async refuse(request, parameters) {
      const presented = request.headers.secret;
      if (typeof presented !== "string" || presented === "") return serviceFabricError(401, "SecretHeaderNotFound", "Secret is not found in the request headers: send the value of IDENTITY_HEADER as the secret header.");
      if (!sameSecret(presented, identityHeader)) return serviceFabricError(401, "SecretHeaderMismatch", "The secret header does not match: send the value of IDENTITY_HEADER.");
      if (parameters.get("api-version") !== SERVICE_FABRIC_API_VERSION) return serviceFabricError(400, "InvalidApiVersion", `Use api-version=${SERVICE_FABRIC_API_VERSION}.`);
      if ((parameters.get("resource") ?? "") === "") return serviceFabricError(400, "ResourceParameterMissing", "The 'resource' parameter is required.");
      return undefined;
    },
    miss(miss) {
      return miss === "several"
        ? serviceFabricError(400, "InvalidParameter", "Specify at most one of client_id, object_id and mi_res_id.")
        : serviceFabricError(400, "ManagedIdentityNotFound", "The managed identity was not found for this application.");
    },
    failure(failure) {
      return serviceFabricError(codeInfo(failure).status, codeInfo(failure).error, `AADSTS${failure.aadsts}: ${failure.message}`);
    },
    success(token) {
      return json(200, { token_type: "Bearer", access_token: token.accessToken, expires_on: token.expiresOn, resource: token.resource }, NO_STORE);
    },
  };
}

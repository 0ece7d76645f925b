// A sample Microsoft Graph-shaped resource (GET /v1.0/users) so API clients can be
// tested end to end: app-only tokens of this emulator for https://graph.microsoft.com
// with the User.Read.All role, OData paging, Graph's error shape and a CAE-style
// claims challenge raised on demand.
import { importJWK, jwtVerify } from "jose";
import { EmulatorConfigError } from "../config/error.js";
import { CLAIMS_MARKER } from "../lib/access-token.js";
import type { Directory } from "../lib/directory.js";
import type { TokenSigner } from "../lib/signing-key.js";
import { json, NO_STORE, requestId, type Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import type { EmulatorRequest } from "../server/request.js";

/** A directory user listed by the sample Graph resource. */
export interface GraphUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

/** The sample Graph resource. */
export interface GraphOptions {
  /**
   * Users listed by `GET /v1.0/users` in every tenant.
   * @default 25 generated users per tenant
   */
  users?: GraphUser[];
}

/** The resource (audience) of Graph tokens. */
export const GRAPH_RESOURCE = "https://graph.microsoft.com";
/** The app role `GET /v1.0/users` requires. */
export const GRAPH_USERS_ROLE = "User.Read.All";
const AUDIENCES = [GRAPH_RESOURCE, `${GRAPH_RESOURCE}/`];
const PAGE_SIZE = 10;
const MAX_TOP = 999;

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return json(status, body, { ...NO_STORE, "request-id": requestId(), ...headers });
}

function generatedUsers(tenantId: string): GraphUser[] {
  return Array.from({ length: 25 }, (_, index) => {
    const n = String(index + 1).padStart(2, "0");
    return {
      id: `${tenantId.slice(0, 8)}-0000-4000-8000-0000000000${n}`,
      displayName: `User ${n}`,
      userPrincipalName: `user${n}@${tenantId}.emulator.invalid`,
    };
  });
}

/** The emulator's sample Graph: `/v1.0/…`. */
export class Graph implements Route {
  private readonly users: GraphUser[] | undefined;
  private readonly pendingClaims = new Map<string, number>();
  private verificationKey: ReturnType<typeof importJWK> | undefined;

  constructor(
    options: GraphOptions | undefined,
    private readonly signer: TokenSigner,
    private readonly directory: Directory,
  ) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new EmulatorConfigError("graph", "must be an object such as { users: [{ id, displayName, userPrincipalName }] }.");
    }
    if (options?.users !== undefined) {
      if (!Array.isArray(options.users) || options.users.some((user) => typeof user?.id !== "string" || typeof user.displayName !== "string" || typeof user.userPrincipalName !== "string")) {
        throw new EmulatorConfigError("graph.users", "must be an array of { id, displayName, userPrincipalName } strings.");
      }
      this.users = options.users.map((user) => ({ id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName }));
    }
  }

  /** The next call from this client gets a claims challenge until it presents a token acquired with claims. */
  requireClaims(clientId: string, now: number): void {
    this.pendingClaims.set(clientId.toLowerCase(), Math.floor(now / 1000));
  }

  private challenge(baseUrl: string, error?: string): Record<string, string> {
    const parts = [`realm=""`, `authorization_uri="${baseUrl}/common/oauth2/authorize"`, `client_id="00000003-0000-0000-c000-000000000000"`];
    if (error !== undefined) parts.push(`error="${error}"`);
    return { "WWW-Authenticate": `Bearer ${parts.join(", ")}` };
  }

  private graphError(status: number, code: string, message: string, now: number, headers: Record<string, string> = {}): Answer {
    return answer(status, { error: { code, message, innerError: { "request-id": requestId(), date: new Date(now).toISOString().slice(0, 19) } } }, headers);
  }

  /** Whether the app still has a service principal in the tenant (consent not withdrawn). */
  private hasServicePrincipal(clientId: string, tenantId: string): boolean {
    const app = this.directory.application(clientId);
    return app !== undefined && this.directory.hasServicePrincipal(app, tenantId);
  }

  private claimsChallenge(baseUrl: string, now: number, notBeforeSeconds: number): Answer {
    const claims = Buffer.from(JSON.stringify({ access_token: { nbf: { essential: true, value: String(notBeforeSeconds) } } })).toString("base64");
    return this.graphError(401, "InvalidAuthenticationToken", "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp", now, {
      "WWW-Authenticate": `Bearer realm="", authorization_uri="${baseUrl}/common/oauth2/authorize", error="insufficient_claims", claims="${claims}"`,
    });
  }

  /** Answers one request to `/v1.0/…`. */
  async handle(request: EmulatorRequest): Promise<Answer> {
    const { baseUrl, now } = request;
    const segments = request.segments.slice(1);
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
    if (match?.[1] === undefined) {
      return this.graphError(401, "InvalidAuthenticationToken", "Access token is empty.", now, this.challenge(baseUrl));
    }
    this.verificationKey ??= importJWK({ ...this.signer.jwk() }, "RS256");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1], await this.verificationKey, { algorithms: ["RS256"], audience: AUDIENCES, currentDate: new Date(now) }));
    } catch (cause) {
      const reason = cause instanceof Error && "code" in cause ? String(cause.code) : "invalid token";
      return this.graphError(401, "InvalidAuthenticationToken", `Access token validation failure (${reason}). Request a token for ${GRAPH_RESOURCE}/.default from this emulator.`, now, this.challenge(baseUrl, "invalid_token"));
    }
    const tenantId = typeof payload.tid === "string" ? payload.tid : "";
    if (payload.iss !== `${request.issuerBase}/${tenantId}/v2.0` || this.directory.resolveTenant(tenantId)?.id !== tenantId) {
      return this.graphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer.", now, this.challenge(baseUrl, "invalid_token"));
    }
    const clientId = typeof payload.azp === "string" ? payload.azp.toLowerCase() : "";
    // Continuous access evaluation for workload identities: deleting the app's service
    // principal (withdrawing consent) is a critical event, so a still-valid token is
    // challenged; the token request that follows then fails in the token endpoint.
    if (!this.hasServicePrincipal(clientId, tenantId)) return this.claimsChallenge(baseUrl, now, Math.floor(now / 1000));
    const required = this.pendingClaims.get(clientId);
    if (required !== undefined) {
      const answered = payload[CLAIMS_MARKER];
      if (typeof answered === "number" && answered >= required) {
        this.pendingClaims.delete(clientId);
      } else {
        return this.claimsChallenge(baseUrl, now, required);
      }
    }
    const [collection, ...extra] = segments;
    if (request.method !== "GET" || collection !== "users" || extra.length > 0) {
      return this.graphError(400, "BadRequest", `Resource not found for the segment '${segments.join("/")}'. The emulator serves GET /v1.0/users.`, now);
    }
    const roles = Array.isArray(payload.roles) ? payload.roles : [];
    if (!roles.includes(GRAPH_USERS_ROLE)) {
      return this.graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", now);
    }
    const topText = request.query.get("$top");
    const top = topText === null ? PAGE_SIZE : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
      return this.graphError(400, "Request_UnsupportedQuery", `Invalid page size specified: '${topText ?? ""}'. Must be between 1 and ${MAX_TOP} inclusive.`, now);
    }
    const skipText = request.query.get("$skiptoken");
    let skip = 0;
    if (skipText !== null) {
      const decoded = /^(\d+)-(\d+)$/.exec(Buffer.from(skipText, "base64url").toString("utf8"));
      if (decoded === null) return this.graphError(400, "Directory_InvalidRequest", "Invalid $skiptoken: follow @odata.nextLink as returned.", now);
      skip = Number(decoded[1]);
    }
    const users = this.users ?? generatedUsers(tenantId);
    const value = users.slice(skip, skip + top);
    const next = skip + top;
    const body: Record<string, unknown> = { "@odata.context": `${baseUrl}/v1.0/$metadata#users`, value };
    if (next < users.length) {
      const token = Buffer.from(`${next}-${top}`).toString("base64url");
      body["@odata.nextLink"] = `${baseUrl}/v1.0/users?$top=${top}&$skiptoken=${token}`;
    }
    return answer(200, body);
  }
}

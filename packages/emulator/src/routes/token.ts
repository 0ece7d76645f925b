// POST /{tenant}/oauth2/v2.0/token: Entra's token endpoint. Identifies the client
// first (fault rules and loop detection match on it), then evaluates the grant.
import { decodeJwt } from "jose";
import { AadstsFailure, malformedRequest } from "../aadsts.js";
import { parseBasic } from "../lib/basic-auth.js";
import { grantClientCredentials, type GrantSettings } from "../lib/client-credentials-grant.js";
import type { FaultTarget } from "../lib/faults/injector.js";
import { loopDetected, type LoopDetector } from "../lib/faults/loop-detection.js";
import { entraError, json, NO_STORE, requestId, type Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import type { EmulatorRequest } from "../server/request.js";

/** The path of the token endpoint under `/{tenant}/`. */
export const TOKEN_PATH = "oauth2/v2.0/token";

/** What the token route needs besides the grant's settings. */
export interface TokenRouteSettings extends GrantSettings {
  loops: LoopDetector;
}

/**
 * The client id of a token request without validating it: the Basic user, the
 * form's `client_id`, or the client assertion's `sub` (RFC 7523: the client id).
 */
function tokenRequestClientId(form: URLSearchParams, authorization: string | undefined): string | undefined {
  if (authorization !== undefined) {
    try {
      return parseBasic(authorization).clientId;
    } catch {
      // A malformed header is the grant's to refuse.
    }
  }
  const clientId = form.get("client_id");
  if (clientId !== null && clientId !== "") return clientId;
  const assertion = form.get("client_assertion");
  if (assertion === null) return undefined;
  try {
    const { sub, iss } = decodeJwt(assertion);
    return sub ?? iss;
  } catch {
    return undefined;
  }
}

/** The token endpoint. */
export class TokenRoute implements Route {
  constructor(private readonly settings: TokenRouteSettings) {}

  /** Reads the client and scope of a POST; other methods are refused before any fault. */
  async faultTarget(request: EmulatorRequest): Promise<FaultTarget | undefined> {
    if (request.method !== "POST") return undefined;
    const { clientId } = await this.#identify(request);
    return { method: request.method, path: request.pathname, tokenEndpoint: true, tenant: request.segments[0], clientId, region: request.region };
  }

  /** Notes the client (as fault rules and loop detection see it) and the scope, before any check. */
  async #identify(request: EmulatorRequest): Promise<{ clientId: string | undefined; scope: string | undefined }> {
    const form = new URLSearchParams((await request.text()) ?? "");
    const identity = { clientId: tokenRequestClientId(form, request.headers.authorization), scope: form.get("scope") ?? undefined };
    request.note({ tokenRequest: true, ...identity });
    return identity;
  }

  async handle(request: EmulatorRequest): Promise<Answer> {
    const tenantSegment = request.segments[0] ?? "";
    const headers = { "client-request-id": request.correlationId };
    request.note({ tokenRequest: true });
    if (request.method !== "POST") {
      return entraError(new AadstsFailure(900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${request.method} request.`), request, { headers });
    }
    const { clientId, scope } = await this.#identify(request);
    if (clientId !== undefined && this.settings.loops.tooMany(`${clientId.toLowerCase()}|${this.settings.directory.tenantKey(tenantSegment)}|${scope ?? ""}`, request.now)) {
      return entraError(loopDetected(), request, { headers });
    }
    try {
      const body = await request.text();
      if (body === undefined) throw malformedRequest("the request body is larger than 1 MiB");
      const token = await grantClientCredentials(this.settings, {
        baseUrl: request.baseUrl,
        issuerBase: request.issuerBase,
        // On a regional host an assertion may be addressed to the global token endpoint too.
        origins: [request.baseUrl, request.issuerBase, ...(request.hostOrigin === undefined ? [] : [request.hostOrigin])],
        tenantSegment,
        body,
        contentType: request.headers["content-type"],
        authorization: request.headers.authorization,
        now: request.now,
        note: (facts) => request.note(facts),
      });
      return json(200, token, { ...NO_STORE, ...headers, "x-ms-request-id": requestId() });
    } catch (error) {
      if (!(error instanceof AadstsFailure)) throw error;
      return entraError(error, request, { headers });
    }
  }
}

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ConfigurationError,
  createDaemonClient,
  normalizeEntraScopes,
  type AccessTokenResult,
  type TelemetryHooks,
} from "@daemon-auth/core";
import { aadstsTransport } from "./lib/aadsts-transport.js";
import { isLoopbackHost, refusalReason } from "./lib/guard.js";
import { headerMatcher } from "./lib/header-secret.js";
import { coreLogger, type SidecarLog } from "./lib/log.js";
import { describe, failureOf, printable, sendJson, type Outcome } from "./lib/answers.js";
import { createSidecarMetrics } from "./lib/metrics.js";
import type { RunningSidecar, Sidecar, SidecarOptions } from "./types.js";

export type { RunningSidecar, Sidecar, SidecarOptions } from "./types.js";

/** The header every token request must carry, as App Service names it. */
export const IDENTITY_HEADER = "x-identity-header";
/** The App Service managed identity API version the sidecar speaks. */
export const APP_SERVICE_API_VERSION = "2019-08-01";

const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };
const TOKEN_PATHS = new Set(["/msi/token", "/token"]);
const KNOWN_PATHS = new Set([...TOKEN_PATHS, "/healthz", "/readyz", "/metrics"]);
// App Service's own message for a user-assigned identity it does not hold.
const UNKNOWN_IDENTITY = "Unable to load the proper Managed Identity.";
// Query parameters that name a user-assigned identity (msal-node sends object_id, the docs name principal_id).
const IDENTITY_PARAMETERS = ["principal_id", "object_id", "mi_res_id", "msi_res_id"] as const;

/**
 * Creates a token sidecar: a loopback HTTP server through which every process on the
 * host, in any language, gets this daemon's app tokens with one cache and one token
 * request per key. It speaks the App Service managed identity protocol
 * (`GET /msi/token?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER`), so an
 * unmodified Azure SDK's `ManagedIdentityCredential` works against it, and a plain
 * `GET /token?scope=…` for everything else; `/healthz`, `/readyz` and `/metrics`
 * (Prometheus) for operations.
 *
 * @throws {ConfigurationError} when the header is too weak, no scope is allowed, a scope
 * is not `<resource>/.default`, or `host` is not loopback without `allowRemote`.
 * @see https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
 *
 * @example
 * const sidecar = createSidecar({ client: { ...configurationFromEnvironment().clientOptions }, header, allowScopes: ["https://graph.microsoft.com/.default"] });
 * const { url } = await sidecar.listen();
 */
export function createSidecar(options: SidecarOptions): Sidecar {
  const host = options.host ?? "127.0.0.1";
  const loopbackOnly = isLoopbackHost(host);
  if (!loopbackOnly && options.allowRemote !== true) {
    throw new ConfigurationError(
      `The sidecar would listen on ${host}, which other hosts can reach: anyone who reaches it with the header gets this daemon's tokens. ` +
        "Listen on 127.0.0.1, or allow it explicitly (allowRemote / --allow-remote).",
    );
  }
  const allowedScopes = checkScopes(options.allowScopes, options.client.issuer === undefined);
  const allowedTenants = new Set((options.allowTenants ?? []).map((tenant) => tenant.toLowerCase()));
  const ownTenant = options.client.tenantId?.toLowerCase();
  const headerMatches = headerMatcher(options.header);
  const log: SidecarLog = options.log ?? (() => undefined);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;

  const upstream = aadstsTransport(options.client.transport);
  const metrics = createSidecarMetrics((correlationId) => upstream.take(correlationId));
  const userTelemetry = options.client.telemetry;
  const telemetry: TelemetryHooks = {
    onTokenRequest(event) {
      metrics.telemetry.onTokenRequest(event);
      userTelemetry?.onTokenRequest?.(event);
    },
    ...(userTelemetry?.onAcquire === undefined ? {} : { onAcquire: userTelemetry.onAcquire.bind(userTelemetry) }),
  };
  const client = createDaemonClient({
    ...options.client,
    transport: upstream.transport,
    telemetry,
    ...(options.client.logger === undefined && options.log !== undefined ? { logger: coreLogger(options.log) } : {}),
  });

  let tokenObtained = false;
  let closing = false;
  let readinessCheck: Promise<boolean> | undefined;

  // No abort signal from the caller's connection: the acquisition is shared with other
  // callers and goes on anyway, and an AbortController per request is a measurable cost.
  async function acquire(scope: string, tenant: string | undefined): Promise<AccessTokenResult> {
    const result = await client.acquireTokenForClient(tenant === undefined ? { scopes: [scope] } : { scopes: [scope], tenantId: tenant });
    tokenObtained = true;
    metrics.tokenServed(result.source);
    return result;
  }

  /** Ready once a token was obtained; until then each probe tries the first allowed scope (one probe at a time). */
  async function ready(): Promise<boolean> {
    if (closing) return false;
    if (tokenObtained) return true;
    readinessCheck ??= client
      .acquireTokenForClient({ scopes: [allowedScopes[0] as string] })
      .then(() => (tokenObtained = true))
      .catch((error: unknown) => {
        log({ level: "warn", msg: "readiness check failed: no token could be acquired", error: describe(error) });
        return false;
      })
      .finally(() => (readinessCheck = undefined));
    return readinessCheck;
  }

  /** Which scope and tenant a token request asks for, or the refusal to send. */
  function authorize(scope: string, tenant: string | undefined): Outcome | undefined {
    if (!allowedScopes.includes(scope)) return { status: 403, outcome: "scope_not_allowed", scope };
    if (tenant !== undefined && tenant.toLowerCase() !== ownTenant && !allowedTenants.has(tenant.toLowerCase())) {
      return { status: 403, outcome: "tenant_not_allowed", scope, tenant };
    }
    return undefined;
  }

  async function appService(query: URLSearchParams, response: ServerResponse): Promise<Outcome> {
    const correlationId = randomUUID();
    const fail = (outcome: Outcome, message: string, headers: Record<string, string> = {}): Outcome => {
      sendJson(response, outcome.status, { statusCode: outcome.status, message, correlationId }, { "x-correlation-id": correlationId, ...headers });
      return outcome;
    };
    if (query.get("api-version") !== APP_SERVICE_API_VERSION) {
      return fail({ status: 400, outcome: "bad_request" }, `Only api-version=${APP_SERVICE_API_VERSION} is supported.`);
    }
    const resource = query.get("resource");
    if (resource === null || resource === "") return fail({ status: 400, outcome: "bad_request" }, "The 'resource' parameter is required.");
    const scope = resource.endsWith("/.default") ? resource : `${resource}/.default`;
    const clientId = query.get("client_id");
    if (IDENTITY_PARAMETERS.some((name) => query.has(name)) || (clientId !== null && clientId.toLowerCase() !== client.clientId.toLowerCase())) {
      return fail({ status: 400, outcome: "identity_not_served", scope }, UNKNOWN_IDENTITY);
    }
    const refusal = authorize(scope, undefined);
    if (refusal) return fail(refusal, `The sidecar does not serve tokens for '${printable(resource)}': add it with --allow-scope ${printable(scope)}.`);
    try {
      const token = await acquire(scope, undefined);
      sendJson(
        response,
        200,
        {
          access_token: token.accessToken,
          // App Service sends epoch seconds as a string; Python's azure-identity int()s it, msal-node subtracts from it.
          expires_on: String(Math.floor(token.expiresOn.getTime() / 1000)),
          resource,
          token_type: token.tokenType,
          client_id: client.clientId,
        },
        NO_STORE,
      );
      return { status: 200, outcome: "ok", scope, source: token.source };
    } catch (error) {
      const failure = failureOf(error);
      return fail({ ...failure, scope }, failure.message, failure.headers);
    }
  }

  async function plain(query: URLSearchParams, response: ServerResponse): Promise<Outcome> {
    const fail = (outcome: Outcome, message: string, headers: Record<string, string> = {}): Outcome => {
      sendJson(response, outcome.status, { error: outcome.outcome, message }, headers);
      return outcome;
    };
    const scopes = query.getAll("scope");
    const tenants = query.getAll("tenant");
    const scope = scopes[0];
    if (scopes.length !== 1 || scope === undefined || scope === "") {
      return fail({ status: 400, outcome: "bad_request" }, "Give exactly one scope: /token?scope=<resource>/.default");
    }
    if (tenants.length > 1 || tenants[0] === "") return fail({ status: 400, outcome: "bad_request", scope }, "Give at most one tenant.");
    const tenant = tenants[0];
    const refusal = authorize(scope, tenant);
    if (refusal) {
      return fail(
        refusal,
        refusal.outcome === "scope_not_allowed"
          ? `The sidecar does not serve the scope '${printable(scope)}': add it with --allow-scope.`
          : `The sidecar does not serve the tenant '${printable(tenant ?? "")}': add it with --allow-tenant.`,
      );
    }
    try {
      const token = await acquire(scope, tenant);
      sendJson(response, 200, { accessToken: token.accessToken, expiresOn: token.expiresOn.toISOString(), tokenType: token.tokenType }, NO_STORE);
      return { status: 200, outcome: "ok", scope, ...(tenant === undefined ? {} : { tenant }), source: token.source };
    } catch (error) {
      const failure = failureOf(error);
      return fail({ ...failure, scope, ...(tenant === undefined ? {} : { tenant }) }, failure.message, failure.headers);
    }
  }

  async function route(request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams): Promise<Outcome> {
    const refusal = refusalReason(request, loopbackOnly);
    if (refusal !== undefined) {
      sendJson(response, 403, { error: "forbidden", message: refusal });
      return { status: 403, outcome: "forbidden" };
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      sendJson(response, 405, { error: "method_not_allowed", message: "Use GET." }, { allow: "GET, HEAD" });
      return { status: 405, outcome: "method_not_allowed" };
    }
    if (path === "/healthz") {
      sendJson(response, 200, { status: "ok" });
      return { status: 200, outcome: "ok" };
    }
    if (path === "/readyz") {
      const isReady = await ready();
      sendJson(response, isReady ? 200 : 503, { status: isReady ? "ready" : "not ready" });
      return { status: isReady ? 200 : 503, outcome: isReady ? "ok" : "upstream_unavailable" };
    }
    if (path === "/metrics") {
      const text = await metrics.registry.metrics();
      response.writeHead(200, { "content-type": metrics.registry.contentType, ...NO_STORE });
      response.end(text);
      return { status: 200, outcome: "ok" };
    }
    if (!TOKEN_PATHS.has(path)) {
      sendJson(response, 404, { error: "not_found", message: "Endpoints: /msi/token, /token, /healthz, /readyz, /metrics." });
      return { status: 404, outcome: "not_found" };
    }
    const presented = request.headers[IDENTITY_HEADER];
    if (!headerMatches(typeof presented === "string" ? presented : undefined)) {
      // Nothing beyond "unauthorized": not whether the header was missing or wrong.
      if (path === "/msi/token") sendJson(response, 401, { statusCode: 401, message: "unauthorized", correlationId: randomUUID() });
      else sendJson(response, 401, { error: "unauthorized", message: "unauthorized" });
      return { status: 401, outcome: "unauthorized" };
    }
    return path === "/msi/token" ? appService(query, response) : plain(query, response);
  }

  const requestListener: RequestListener = (request, response) => {
    const started = performance.now();
    if (closing) response.setHeader("connection", "close");
    // Split by hand: a WHATWG URL parse is a large share of a cache hit's cost, and the
    // path is matched exactly (no decoding, no dot segments), so nothing is lost.
    const target = request.url ?? "/";
    const mark = target.indexOf("?");
    const path = mark < 0 ? target : target.slice(0, mark);
    const query = new URLSearchParams(mark < 0 ? "" : target.slice(mark + 1));
    const endpoint = KNOWN_PATHS.has(path) ? path : "other";
    route(request, response, path, query)
      .catch((error: unknown): Outcome => {
        log({ level: "error", msg: "request failed", error: describe(error) });
        if (!response.headersSent) sendJson(response, 500, { error: "error", message: "The sidecar failed; see its log." });
        else response.destroy();
        return { status: 500, outcome: "error" };
      })
      .then((outcome) => {
        metrics.request(endpoint, outcome.outcome);
        if (options.log === undefined) return;
        // The access log: who asked for what and how it ended; never a token or header.
        log({
          level: outcome.status >= 500 ? "error" : outcome.status >= 400 ? "warn" : "info",
          msg: "request",
          caller: request.socket.remoteAddress,
          endpoint,
          scope: outcome.scope,
          tenant: outcome.tenant,
          outcome: outcome.outcome,
          source: outcome.source,
          status: outcome.status,
          latencyMs: Math.round((performance.now() - started) * 100) / 100,
        });
      })
      .catch(() => undefined);
  };

  let server: Server | undefined;
  let closed: Promise<void> | undefined;

  async function close(): Promise<void> {
    closed ??= (async () => {
      closing = true;
      if (server !== undefined) {
        const listening = server;
        const stopped = new Promise<void>((resolve) => listening.close(() => resolve()));
        listening.closeIdleConnections();
        const timer = setTimeout(() => listening.closeAllConnections(), shutdownTimeoutMs);
        await stopped;
        clearTimeout(timer);
      }
      await client.dispose();
      log({ level: "info", msg: "sidecar stopped" });
    })();
    return closed;
  }

  return {
    client,
    requestListener,
    metrics: () => metrics.registry.metrics(),
    close,
    async listen() {
      if (server !== undefined) throw new ConfigurationError("This sidecar is already listening; create another one for another port.");
      const listening = createServer({ requireHostHeader: true }, requestListener);
      server = listening;
      // Idle keep-alive sockets go as soon as close() starts; in-flight ones after their answer.
      listening.on("request", (_request: IncomingMessage, response: ServerResponse) => {
        response.once("finish", () => {
          if (closing) listening.closeIdleConnections();
        });
      });
      await new Promise<void>((resolve, reject) => {
        listening.once("error", reject);
        listening.listen(options.port ?? 0, host, () => {
          listening.off("error", reject);
          resolve();
        });
      }).catch((error: unknown) => {
        void client.dispose();
        const code = (error as NodeJS.ErrnoException).code ?? "error";
        throw new ConfigurationError(`The sidecar could not listen on ${host}:${options.port ?? 0} (${code}): pick another port or address.`, { cause: error });
      });
      const port = (listening.address() as AddressInfo).port;
      const url = `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
      log({ level: "info", msg: "sidecar listening", url, scopes: allowedScopes.join(" "), remote: !loopbackOnly });
      return { url, port, close };
    },
  };
}

/**
 * Creates a sidecar and starts listening.
 *
 * @example
 * const sidecar = await startSidecar({ client, header: process.env.DAEMON_AUTH_SERVE_HEADER!, allowScopes: ["api://orders/.default"] });
 * process.env.IDENTITY_ENDPOINT = `${sidecar.url}/msi/token`;
 */
export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  return createSidecar(options).listen();
}

function checkScopes(scopes: readonly string[], entra: boolean): readonly string[] {
  if (scopes.length === 0) {
    throw new ConfigurationError("The sidecar serves no scope: allow at least one, e.g. --allow-scope https://graph.microsoft.com/.default.");
  }
  for (const scope of scopes) {
    try {
      if (entra) normalizeEntraScopes([scope]);
    } catch (error) {
      throw new ConfigurationError(`Allowed scope '${printable(scope)}' is not valid: ${(error as Error).message}`, { cause: error });
    }
  }
  return [...new Set(scopes)];
}


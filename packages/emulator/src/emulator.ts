import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AadstsFailure, errorPage, errorResponse } from "./aadsts.js";
import { EmulatorConfigError, validateEmulatorConfigShape, type ApplicationConfig, type CertificateConfig, type EmulatorConfig, type FederatedCredentialConfig, type GrantConfig, type SecretConfig, type TenantConfig } from "./config.js";
import { AdminConsentEndpoint } from "./lib/admin-consent.js";
import { Directory } from "./lib/directory.js";
import { instanceDiscovery, openIdConfiguration } from "./lib/discovery.js";
import { EXTERNAL_SEGMENT, externalIssuerMetadata, externalJwks, signExternalToken, type ExternalTokenOptions } from "./lib/external-issuer.js";
import { IssuerKeys } from "./lib/federated-assertion.js";
import { Graph, type GraphOptions } from "./lib/graph.js";
import { KeyVault, type KeyVaultOptions, type SetVaultSecretOptions } from "./lib/key-vault.js";
import { applyFault, FaultInjector, LoopDetector, loopDetected, tokenRequestClientId, type FaultKind, type FaultTarget, type Faults, type LoopDetectionOptions } from "./lib/faults.js";
import { createTokenSigner } from "./lib/signing-key.js";
import { loadOrCreateTlsMaterial, serverNames } from "./lib/tls.js";
import { handleTokenRequest, resolveTenantSegment, type TokenRequestFacts } from "./lib/token-endpoint.js";

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /**
   * Port to listen on; 0 picks a free port.
   * @default 0
   */
  port?: number;
  /**
   * Interface to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Serve HTTPS with a certificate from the emulator's local CA (see `certificateDir`).
   * @default false
   */
  https?: boolean;
  /**
   * Tenants, applications and grants.
   * @default an empty directory
   */
  config?: EmulatorConfig;
  /**
   * Lifetime of issued access tokens (`expires_in`).
   * @default 3599
   */
  tokenLifetimeSeconds?: number;
  /**
   * When set, token responses carry `refresh_in` with this value.
   * @default undefined (no refresh_in)
   */
  refreshInSeconds?: number;
  /**
   * Where the generated TLS CA and server certificate are kept and reused
   * (0700 directory, 0600 key files).
   * @default `<os tmpdir>/daemon-auth-emulator`
   */
  certificateDir?: string;
  /**
   * Receives one line per request. Lines never contain secrets, assertions or tokens.
   * @default no logging
   */
  log?: (line: string) => void;
  /**
   * Current time in ms since the epoch, for token times, secret expiry and
   * assertion checks (tests of expiry move it).
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Reject a client assertion whose `jti` was already used, as generic OAuth
   * servers may. Entra ID accepts reuse within the assertion's lifetime.
   * @default false
   */
  strictJti?: boolean;
  /**
   * Entra's loop detection: the same client asking for the same token (client,
   * tenant, scope) more than `maxRequests` times within `windowMs` gets AADSTS50196.
   * Change it at run time with {@link Emulator.setLoopDetection}.
   * @default off (or the config file's `loopDetection`)
   */
  loopDetection?: LoopDetectionOptions;
  /**
   * An Azure Key Vault (secrets only) served at {@link Emulator.vaultUrl}, for
   * `SecretClient` with tokens this emulator issues for `https://vault.azure.net`
   * (that resource must exist as an app in the config).
   * @default an empty vault
   */
  keyVault?: KeyVaultOptions;
  /**
   * A sample Microsoft Graph (`GET /v1.0/users`) served at {@link Emulator.graphUrl}, for
   * tokens this emulator issues for `https://graph.microsoft.com` with the `User.Read.All`
   * role (that resource must exist as an app in the config).
   * @default 25 generated users per tenant
   */
  graph?: GraphOptions;
}

/** One request the emulator answered. Never holds secrets, assertions or tokens. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query. */
  path: string;
  /** The `{tenant}` path segment as the client sent it. */
  tenant?: string;
  clientId?: string;
  scope?: string;
  status: number;
  /** AADSTS codes of an error response. */
  errorCodes?: number[];
  grantType?: string;
  clientAuth?: "secret_post" | "secret_basic" | "assertion" | "none";
  /** Emulator clock at arrival (ms since the epoch). */
  at: number;
  /** The fault rule that answered (or delayed) the request, if any. A `status` of 0 means nothing was sent (hang, reset). */
  fault?: FaultKind;
}

/** Filter of {@link Emulator.tokenRequestCount}. */
export interface TokenRequestFilter {
  clientId?: string;
  /** Tenant id or domain; matches requests that used either. */
  tenant?: string;
  /** Exact `scope` parameter. */
  scope?: string;
}

/** A running emulator. */
export interface Emulator {
  /** Base URL without trailing slash, e.g. `https://127.0.0.1:54321`. Use it as the authority host. */
  readonly url: string;
  /** HTTPS only: the CA that signed the server certificate, PEM. */
  readonly caCertificatePem?: string;
  /** HTTPS only: file of that CA (PEM), for `NODE_EXTRA_CA_CERTS`. */
  readonly caCertificatePath?: string;
  /** `${url}/${tenant}`. */
  authority(tenant: string): string;
  /** `${url}/${tenant}/oauth2/v2.0/token`. */
  tokenEndpoint(tenant: string): string;
  /** `${url}/${tenantId}/v2.0`: the `iss` of tokens for that tenant. */
  issuer(tenantId: string): string;
  /** `${url}/${tenant}/discovery/v2.0/keys`. */
  jwksUri(tenant: string): string;
  /** Every request, in arrival order (a snapshot). */
  readonly requests: readonly RecordedRequest[];
  /** Number of POSTs to a token endpoint (any outcome) matching the filter. */
  tokenRequestCount(filter?: TokenRequestFilter): number;
  /** Forgets the recorded requests. */
  resetRequests(): void;
  /** Adds a tenant. Throws {@link EmulatorConfigError} when invalid or duplicate. */
  addTenant(tenant: TenantConfig): void;
  /** Adds an app registration. */
  addApplication(application: ApplicationConfig): void;
  /** Adds a client secret to an app (rotation). */
  addSecret(clientId: string, secret: SecretConfig): void;
  /** Removes the app's secret with this value (or id). */
  removeSecret(clientId: string, value: string): void;
  /** Uploads a certificate credential to an app. */
  addCertificate(clientId: string, certificate: CertificateConfig): void;
  /** Removes a certificate by PEM or thumbprint (SHA-1/SHA-256, hex or base64url). */
  removeCertificate(clientId: string, thumbprintOrPem: string): void;
  /** Admin consent: grants app roles of a resource to a client in a tenant (adds to earlier grants). */
  grant(grant: GrantConfig): void;
  /** Withdraws consent: the client's grants in the tenant, or only those on `resource`. */
  revoke(grant: { tenant: string; clientId: string; resource?: string }): void;
  /**
   * The emulated Key Vault's URL (the emulator's own URL): pass it to `SecretClient`
   * with `disableChallengeResourceVerification: true`.
   */
  readonly vaultUrl: string;
  /** Adds a new version of a Key Vault secret (enabled unless told) and returns the version id. */
  setVaultSecret(name: string, value: string, options?: SetVaultSecretOptions): string;
  /** Disables one version of a Key Vault secret: reading it then fails with 403 as Key Vault does. */
  disableVaultSecretVersion(name: string, version: string): void;
  /** `${url}/v1.0`: the sample Graph resource (`GET /v1.0/users`). */
  readonly graphUrl: string;
  /**
   * Makes the sample Graph answer this client's next calls with a CAE-style claims challenge
   * (401 `error="insufficient_claims"`) until it presents a token acquired with `claims`.
   */
  requireClaims(clientId: string): void;
  /** Adds a federated identity credential to an app: tokens of that issuer/subject/audience become client assertions. */
  addFederatedCredential(clientId: string, credential: FederatedCredentialConfig): void;
  /** Removes an app's federated credentials by name or subject. */
  removeFederatedCredential(clientId: string, nameOrSubject: string): void;
  /**
   * `${url}/external`: the emulator acting as an external OpenID issuer (like a
   * Kubernetes cluster), with `/.well-known/openid-configuration` and `/keys`.
   */
  readonly externalIssuer: string;
  /** Signs a token of {@link Emulator.externalIssuer}, to use as a federated client assertion (e.g. in a token file). */
  issueExternalToken(options: ExternalTokenOptions): Promise<string>;
  /**
   * Fault injection at run time: errors, latency, hangs, resets and broken bodies
   * for the requests a rule matches (by default, token requests).
   */
  readonly faults: Faults;
  /** Turns Entra's loop detection (AADSTS50196) on with these limits, or off with undefined. */
  setLoopDetection(options: LoopDetectionOptions | undefined): void;
  /** Stops listening and closes every socket, keep-alive ones too. Safe to call twice. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

function formatHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

const NO_STORE = { "Cache-Control": "no-store, no-cache", Pragma: "no-cache" };

/**
 * Starts a local Microsoft identity platform: discovery, JWKS, instance
 * discovery and the v2.0 token endpoint for the client credentials grant,
 * answering with Entra ID's shapes and AADSTS errors.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ https: true, config: demoEmulatorConfig() });
 * const authority = emulator.authority("contoso.onmicrosoft.com");
 * // …
 * await emulator.close();
 * ```
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EmulatorConfigError("port", `${String(port)} is not a port; use 0 (a free port) to 65535.`);
  }
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
  if (!Number.isInteger(tokenLifetimeSeconds) || tokenLifetimeSeconds <= 0) {
    throw new EmulatorConfigError("tokenLifetimeSeconds", "must be a positive whole number of seconds.");
  }
  const refreshInSeconds = options.refreshInSeconds;
  if (refreshInSeconds !== undefined && (!Number.isInteger(refreshInSeconds) || refreshInSeconds <= 0)) {
    throw new EmulatorConfigError("refreshInSeconds", "must be a positive whole number of seconds.");
  }
  const clock = options.clock ?? Date.now;
  const userLog = options.log;
  // A throwing log callback must not break request handling.
  const log =
    userLog === undefined
      ? undefined
      : (line: string): void => {
          try {
            userLog(line);
          } catch {
            // Ignored on purpose: logging is best effort.
          }
        };
  const config = validateEmulatorConfigShape(options.config ?? { tenants: [], applications: [] });
  const directory = new Directory(config);
  const normalizeTenant = (tenant: string): string => directory.resolveTenant(tenant)?.id ?? tenant.toLowerCase();
  const faults = new FaultInjector((segment, tenant) => normalizeTenant(segment) === normalizeTenant(tenant));
  for (const rule of config.faults ?? []) faults.add(rule);
  const loops = new LoopDetector(options.loopDetection ?? config.loopDetection);
  const seenJtis = options.strictJti === true ? new Map<string, number>() : undefined;
  const adminConsent = new AdminConsentEndpoint();

  const [signer, tls] = await Promise.all([
    createTokenSigner(),
    options.https === true
      ? loadOrCreateTlsMaterial(options.certificateDir ?? join(tmpdir(), "daemon-auth-emulator"), serverNames(host))
      : Promise.resolve(undefined),
  ]);

  const vault = new KeyVault(options.keyVault, signer, clock, () => directory.tenantIds()[0], (tenant) => directory.resolveTenant(tenant)?.id);

  const graph = new Graph(
    options.graph,
    signer,
    (tenantId) => directory.resolveTenant(tenantId)?.id === tenantId,
    (clientId, tenantId) => {
      const app = directory.application(clientId);
      return app !== undefined && directory.hasServicePrincipal(app, tenantId);
    },
  );

  let records: RecordedRequest[] = [];
  const tokenRecords = new WeakSet<RecordedRequest>();
  let baseUrl = "";
  const scheme = tls === undefined ? "http" : "https";
  // The emulator's own external issuer is resolved in-process, so HTTPS with a private CA needs no trust setup.
  const externalIssuer = (): string => `${baseUrl}/${EXTERNAL_SEGMENT}`;
  const issuerKeys = new IssuerKeys((issuer) => (issuer === externalIssuer() ? externalJwks(signer) : undefined));

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const started = Date.now();
    const url = new URL(request.url ?? "/", "http://emulator.invalid");
    const record: RecordedRequest = { method: request.method ?? "GET", path: url.pathname, status: 0, at: clock() };
    records.push(record);
    const finish = (): void => {
      if (log === undefined) return;
      const parts = [`${record.method} ${record.path} ${record.status}`];
      if (record.errorCodes !== undefined) parts.push(`AADSTS${record.errorCodes.join(",")}`);
      if (record.clientId !== undefined) parts.push(`client=${record.clientId}`);
      if (record.scope !== undefined) parts.push(`scope=${record.scope}`);
      if (record.clientAuth !== undefined) parts.push(`auth=${record.clientAuth}`);
      parts.push(`${Date.now() - started}ms`);
      log(parts.join(" "));
    };
    route(request, response, url, record)
      .catch((error: unknown) => {
        // A bug in the emulator must not hang the client; 500 is what a real outage looks like too.
        record.status = 500;
        if (!response.headersSent) sendJson(response, 500, { error: "server_error", error_description: "The daemon-auth emulator failed to handle the request." });
        else response.destroy();
        log?.(`internal error: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(finish);
  };

  const sendFailure = (response: ServerResponse, record: RecordedRequest, failure: AadstsFailure, correlationId: string, extra: Record<string, string> = {}, errorOverride?: string): void => {
    const { status, body } = errorResponse(failure, { baseUrl, correlationId, now: clock() });
    if (errorOverride !== undefined) body.error = errorOverride;
    record.status = status;
    record.errorCodes = body.error_codes;
    sendJson(response, status, body, { ...NO_STORE, "x-ms-request-id": body.trace_id, ...extra });
  };

  const sendHtml = (response: ServerResponse, record: RecordedRequest, status: number, html: string): void => {
    record.status = status;
    response.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(html), ...NO_STORE });
    response.end(html);
  };

  const route = async (request: IncomingMessage, response: ServerResponse, url: URL, record: RecordedRequest): Promise<void> => {
    const segments = url.pathname.split("/").filter((segment) => segment !== "").map(safeDecode);
    const method = record.method;
    const [first, ...rest] = segments;
    const tail = rest.join("/");
    const correlationHeader = request.headers["client-request-id"];
    const correlationId = typeof correlationHeader === "string" && correlationHeader !== "" ? correlationHeader : randomUUID();
    // A fault answers (or delays) the request as its rule says; true when it answered.
    const injectFault = async (target: Omit<FaultTarget, "method" | "path">): Promise<boolean> => {
      const fault = faults.pick({ method, path: url.pathname, ...target });
      if (fault === undefined) return false;
      record.fault = fault.kind;
      const answer = await applyFault(fault, { request, response, baseUrl, correlationId, now: clock() });
      if (answer === undefined) return false;
      record.status = answer.status;
      if (answer.errorCodes !== undefined) record.errorCodes = answer.errorCodes;
      return true;
    };
    const tokenEndpoint = first !== undefined && tail === "oauth2/v2.0/token";
    if (!tokenEndpoint && (await injectFault({ tokenEndpoint, tenant: first, clientId: url.searchParams.get("client_id") ?? undefined }))) return;

    if (first === "error" && rest.length === 0 && method === "GET") {
      sendHtml(response, record, 200, errorPage(url.searchParams.get("code")));
      return;
    }
    if (first === undefined) {
      record.status = 404;
      sendJson(response, 404, { error: "not_found", error_description: "The daemon-auth emulator serves /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/discovery/v2.0/keys and /{tenant}/oauth2/v2.0/token." });
      return;
    }
    if (first === EXTERNAL_SEGMENT && method === "GET" && (tail === ".well-known/openid-configuration" || tail === "keys")) {
      record.status = 200;
      sendJson(response, 200, tail === "keys" ? externalJwks(signer) : externalIssuerMetadata(externalIssuer()), { "Cache-Control": "max-age=300, private" });
      return;
    }
    if (first === "v1.0") {
      const answer = await graph.handle({ method, segments: rest, query: url.searchParams, authorization: request.headers.authorization, baseUrl, now: clock() });
      record.status = answer.status;
      sendJson(response, answer.status, answer.body, { ...NO_STORE, "request-id": randomUUID(), ...answer.headers });
      return;
    }
    if (first === "secrets") {
      const answer = await vault.handle({
        method,
        segments: rest,
        query: url.searchParams,
        authorization: request.headers.authorization,
        readBody: () => readBody(request),
        baseUrl,
        now: clock(),
      });
      record.status = answer.status;
      sendJson(response, answer.status, answer.body, { ...NO_STORE, "x-ms-request-id": randomUUID(), ...answer.headers });
      return;
    }
    record.tenant = first;

    if (tail === "oauth2/v2.0/token") {
      tokenRecords.add(record);
      if (method !== "POST") {
        sendFailure(response, record, new AadstsFailure(900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`), correlationId, { "client-request-id": correlationId });
        return;
      }
      const body = await readBody(request);
      const form = new URLSearchParams(body ?? "");
      const clientId = tokenRequestClientId(form, request.headers.authorization);
      const scope = form.get("scope") ?? undefined;
      if (clientId !== undefined) record.clientId = clientId;
      if (scope !== undefined) record.scope = scope;
      if (await injectFault({ tokenEndpoint, tenant: first, clientId })) return;
      if (clientId !== undefined && loops.tooMany(`${clientId.toLowerCase()}|${normalizeTenant(first)}|${scope ?? ""}`, clock())) {
        sendFailure(response, record, loopDetected(), correlationId, { "client-request-id": correlationId });
        return;
      }
      const facts: TokenRequestFacts = {};
      try {
        if (body === undefined) throw new AadstsFailure(9002313, "Invalid request. Request is malformed or invalid. (the request body is larger than 1 MiB)");
        const token = await handleTokenRequest({
          directory,
          signer,
          baseUrl,
          origins: [baseUrl, ...(request.headers.host === undefined ? [] : [`${scheme}://${request.headers.host}`])],
          tenantSegment: first,
          body,
          contentType: request.headers["content-type"],
          authorization: request.headers.authorization,
          now: clock(),
          tokenLifetimeSeconds,
          refreshInSeconds,
          seenJtis,
          issuerKeys,
          facts,
        });
        Object.assign(record, facts);
        record.status = 200;
        sendJson(response, 200, token, { ...NO_STORE, "client-request-id": correlationId, "x-ms-request-id": randomUUID() });
      } catch (error) {
        Object.assign(record, facts);
        if (!(error instanceof AadstsFailure)) throw error;
        sendFailure(response, record, error, correlationId, { "client-request-id": correlationId });
      }
      return;
    }

    if (tail === "adminconsent" && (method === "GET" || method === "POST")) {
      const answer = adminConsent.handle({
        method,
        tenantSegment: first,
        query: url.searchParams,
        body: method === "POST" ? await readBody(request) : undefined,
        contentType: request.headers["content-type"],
        directory,
        now: clock(),
      });
      if (answer.clientId !== undefined) record.clientId = answer.clientId;
      record.status = answer.status;
      response.writeHead(answer.status, { ...answer.headers, "Content-Length": Buffer.byteLength(answer.body), ...NO_STORE });
      response.end(answer.body);
      return;
    }

    if (method !== "GET") {
      record.status = 405;
      sendJson(response, 405, { error: "invalid_request", error_description: `${method} is not supported on ${url.pathname}.` }, { Allow: "GET" });
      return;
    }

    if (tail === "discovery/instance") {
      record.status = 200;
      sendJson(response, 200, instanceDiscovery(baseUrl, url.searchParams.get("authorization_endpoint")));
      return;
    }

    const metadata = tail === "v2.0/.well-known/openid-configuration" || tail === ".well-known/openid-configuration";
    const keys = tail === "discovery/v2.0/keys" || tail === "discovery/keys";
    if (metadata || keys) {
      const generic = ["common", "organizations", "consumers"].includes(first.toLowerCase());
      let tenantId = "{tenantid}";
      if (!generic) {
        try {
          tenantId = resolveTenantSegment(directory, first).id;
        } catch (error) {
          if (!(error instanceof AadstsFailure)) throw error;
          // Entra names the OAuth error invalid_tenant on its metadata endpoints.
          sendFailure(response, record, error, correlationId, {}, "invalid_tenant");
          return;
        }
      }
      record.status = 200;
      const body = metadata
        ? openIdConfiguration(baseUrl, tenantId, first)
        : { keys: [signer.jwk(`${baseUrl}/${tenantId}/v2.0`)] };
      sendJson(response, 200, body, { "Cache-Control": "max-age=86400, private", "Access-Control-Allow-Origin": "*" });
      return;
    }

    record.status = 404;
    sendJson(response, 404, { error: "not_found", error_description: `No emulator endpoint at ${url.pathname}.` });
  };

  const server: Server =
    tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ key: tls.serverKeyPem, cert: tls.serverCertificatePem }, handler);

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`Port ${port} on ${host} is in use; pass another port (CLI: --port) or 0 for a free one.`, { cause: error })
          : error,
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address !== null ? address.port : port;
  baseUrl = `${scheme}://${formatHost(host)}:${actualPort}`;

  let closing: Promise<void> | undefined;
  const emulator: Emulator = {
    url: baseUrl,
    ...(tls === undefined ? {} : { caCertificatePem: tls.caCertificatePem, caCertificatePath: tls.caCertificatePath }),
    authority: (tenant) => `${baseUrl}/${tenant}`,
    tokenEndpoint: (tenant) => `${baseUrl}/${tenant}/oauth2/v2.0/token`,
    issuer: (tenantId) => `${baseUrl}/${tenantId}/v2.0`,
    jwksUri: (tenant) => `${baseUrl}/${tenant}/discovery/v2.0/keys`,
    get requests() {
      return records.map((record) => ({ ...record }));
    },
    tokenRequestCount(filter = {}) {
      return records.filter(
        (record) =>
          record.method === "POST" &&
          tokenRecords.has(record) &&
          (filter.clientId === undefined || (record.clientId !== undefined && record.clientId.toLowerCase() === filter.clientId.toLowerCase())) &&
          (filter.scope === undefined || record.scope === filter.scope) &&
          (filter.tenant === undefined || (record.tenant !== undefined && normalizeTenant(record.tenant) === normalizeTenant(filter.tenant))),
      ).length;
    },
    resetRequests() {
      records = [];
    },
    addTenant: (tenant) => directory.addTenant(tenant),
    addApplication: (application) => directory.addApplication(application),
    addSecret: (clientId, secret) => directory.addSecret(clientId, secret),
    removeSecret: (clientId, value) => directory.removeSecret(clientId, value),
    addCertificate: (clientId, certificate) => directory.addCertificate(clientId, certificate),
    removeCertificate: (clientId, thumbprintOrPem) => directory.removeCertificate(clientId, thumbprintOrPem),
    addFederatedCredential: (clientId, credential) => directory.addFederatedCredential(clientId, credential),
    removeFederatedCredential: (clientId, nameOrSubject) => directory.removeFederatedCredential(clientId, nameOrSubject),
    externalIssuer: externalIssuer(),
    issueExternalToken: (tokenOptions) => signExternalToken(signer, externalIssuer(), tokenOptions, clock()),
    grant: (grant) => directory.grant(grant),
    vaultUrl: baseUrl,
    graphUrl: `${baseUrl}/v1.0`,
    requireClaims: (clientId) => graph.requireClaims(clientId, clock()),
    setVaultSecret: (name, value, secretOptions) => vault.set(name, value, secretOptions),
    disableVaultSecretVersion: (name, version) => vault.disable(name, version),
    revoke: (grant) => directory.revoke(grant),
    faults,
    setLoopDetection: (loopDetection) => loops.configure(loopDetection),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // close() waits for idle keep-alive sockets otherwise.
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return emulator;
}

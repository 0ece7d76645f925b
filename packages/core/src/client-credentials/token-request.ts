import type { ClientSettings } from "../client/settings.js";
import type { TelemetryHooks } from "../seams.js";
import {
  JWT_BEARER_ASSERTION_TYPE,
  type ClientAuthentication,
  type ClientCredential,
  type CredentialContext,
} from "../credential.js";
import { CredentialError, DaemonAuthError, ROTATION_ERROR_CODES, ServerError } from "../errors.js";
import { redacted } from "../redacted.js";
import type { FetchedToken, TokenFetchContext, TokenFetcher } from "../acquisition/token-fetcher.js";
import type { TokenTarget } from "../acquisition/token-target.js";
import { entraTokenEndpoint } from "../lib/authority.js";
import { describeError } from "../lib/describe-error.js";
import { discoverMetadata, type ServerMetadata } from "../lib/discovery.js";
import { postTokenRequest, type TokenEndpointSettings } from "../lib/token-endpoint.js";
import { claimsParameter } from "./claims.js";
import { LIBRARY_HEADERS } from "./library-info.js";
import { isRegionalOutage, REGION_FALLBACK_MS } from "./region.js";

/**
 * The client credentials grant as a {@link TokenFetcher} (RFC 6749 §4.4): finds the
 * token endpoint (Entra's per tenant, or a generic issuer's by discovery, once), asks the
 * credential for client authentication, builds the form and headers, POSTs them, and on
 * a rotation-type rejection reloads the credential and tries the next one once.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export class ClientCredentialsFetcher implements TokenFetcher {
  readonly kind = "client-credentials";
  readonly authority: string;
  readonly clientId: string;
  private readonly endpoint: TokenEndpointSettings;
  /** The credential tried first; moves on after a rotation-type rejection. */
  private activeCredential = 0;
  private metadata: Promise<ServerMetadata> | undefined;
  /** Clock time until which the global host stands in for a failed regional one. */
  private regionFailedUntil = 0;

  /** `telemetry` is the client's guarded `onTokenRequest`, if any. */
  constructor(
    private readonly settings: ClientSettings,
    telemetry: TelemetryHooks | undefined,
  ) {
    // Tokens requested with client capabilities (CAE) differ from those without: another key,
    // also in a store shared with a client that declares other capabilities.
    const capabilities = settings.clientCapabilities;
    this.authority = capabilities.length === 0 ? settings.authorityId : `${settings.authorityId}|xms_cc=${[...capabilities].sort().join(",")}`;
    this.clientId = settings.clientId;
    this.endpoint = {
      transport: settings.transport,
      clock: settings.clock,
      logger: settings.logger,
      telemetry,
      timeoutMs: settings.requestTimeoutMs,
      retry: settings.retry,
    };
    redacted(this, `ClientCredentialsFetcher(clientId=${this.clientId}, authority=${this.authority})`);
  }

  async fetchToken(target: TokenTarget, context: TokenFetchContext): Promise<FetchedToken> {
    const { regionalBase, clock, logger, authMethod } = this.settings;
    if (regionalBase !== undefined && clock.now() >= this.regionFailedUntil) {
      const regional = `${regionalBase}/${encodeURIComponent(target.tenantId)}/oauth2/v2.0/token`;
      try {
        return await this.fetchFrom(regional, authMethod === "client_secret_basic", target, context);
      } catch (error) {
        if (context.signal.aborted || !isRegionalOutage(error)) throw error;
        this.regionFailedUntil = clock.now() + REGION_FALLBACK_MS;
        logger?.warn?.("daemon-auth: the regional token endpoint failed; using the global host for a while", {
          regionalHost: new URL(regionalBase).host,
          fallbackMs: REGION_FALLBACK_MS,
          error: describeError(error),
          correlationId: context.correlationId,
        });
      }
    }
    const { url, basicAuth } = await this.tokenEndpoint(target.tenantId, context.signal);
    return this.fetchFrom(url, basicAuth, target, context);
  }

  /** One token request to `tokenEndpoint`, with the credential rotation of {@link fetchToken}. */
  private async fetchFrom(tokenEndpoint: string, basicAuth: boolean, target: TokenTarget, context: TokenFetchContext): Promise<FetchedToken> {
    const { credentials, logger } = this.settings;
    let rotated = false;
    for (;;) {
      const index = this.activeCredential;
      const credential = credentials[index] as ClientCredential;
      try {
        const authentication = await this.authenticate(credential, tokenEndpoint, target.tenantId, context);
        const { response, sentAt } = await postTokenRequest(this.endpoint, {
          url: this.requestUrl(tokenEndpoint),
          ...this.buildRequest(authentication, basicAuth, target.scopes, context),
          correlationId: context.correlationId,
          signal: context.signal,
          onRetryAfter: context.pauseUntil,
        });
        logger?.debug?.("daemon-auth: token endpoint answered", { host: new URL(tokenEndpoint).host, correlationId: context.correlationId });
        if (rotated) {
          logger?.info?.("daemon-auth: a rotated credential was accepted", {
            credential: index,
            kind: credential.kind,
            description: credential.description,
          });
        }
        return { ...response, sentAt, tokenEndpoint };
      } catch (error) {
        // Retrying makes sense only if something can change: a reloaded or another credential.
        const canRotate = credentials.length > 1 || credential.reload !== undefined;
        if (rotated || !canRotate || !this.isRotationError(error)) throw error;
        // Reload the rejected credential and try the next one (or the reloaded one) once.
        rotated = true;
        this.activeCredential = (index + 1) % credentials.length;
        logger?.warn?.("daemon-auth: the server rejected the credential; reloading it and trying once more", {
          credential: index,
          kind: credential.kind,
          errorCodes: error.errorCodes.join(","),
          next: this.activeCredential,
        });
        await credential
          .reload?.({ error: error.error, errorCodes: error.errorCodes })
          .catch((reloadError: unknown) => logger?.warn?.("daemon-auth: reloading the credential failed", { error: describeError(reloadError) }));
      }
    }
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.settings.credentials.map(async (credential) => credential.dispose?.()));
  }

  private isRotationError(error: unknown): error is ServerError {
    if (!(error instanceof ServerError)) return false;
    if (error.errorCodes.some((code) => ROTATION_ERROR_CODES.has(code))) return true;
    // Generic servers have no AADSTS codes; invalid_client is their "credential rejected".
    return this.settings.authority.kind === "generic" && error.error === "invalid_client";
  }

  private async authenticate(
    credential: ClientCredential,
    tokenEndpoint: string,
    tenantId: string,
    fetch: TokenFetchContext,
  ): Promise<ClientAuthentication> {
    const kind = this.settings.authority.kind;
    const context: CredentialContext = {
      tokenEndpoint,
      clientId: this.clientId,
      authorityKind: kind,
      tenantId: kind === "entra" ? tenantId : undefined,
      claims: fetch.claims,
      signal: fetch.signal,
    };
    try {
      return await credential.getAuthentication(context);
    } catch (error) {
      if (error instanceof DaemonAuthError) throw error;
      throw new CredentialError(`The ${credential.kind} credential failed to produce client authentication.`, {
        cause: error,
      });
    }
  }

  private buildRequest(
    authentication: ClientAuthentication,
    basicAuth: boolean,
    scopes: readonly string[],
    { claims, correlationId, returnClientRequestId }: TokenFetchContext,
  ): { headers: Record<string, string>; body: string } {
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded;charset=utf-8",
      accept: "application/json",
      "client-request-id": correlationId,
      ...LIBRARY_HEADERS,
    };
    if (this.settings.returnClientRequestId || returnClientRequestId === true) headers["return-client-request-id"] = "true";
    // Extra parameters first: the client's own are set after them, and settings refused any clash.
    const form = new URLSearchParams();
    for (const [name, value] of this.settings.extraParameters) form.set(name, value);
    form.set("grant_type", "client_credentials");
    if (scopes.length > 0) form.set("scope", scopes.join(" "));
    const claimsValue = claimsParameter(claims, this.settings.clientCapabilities);
    if (claimsValue !== undefined) form.set("claims", claimsValue);
    if ("clientSecret" in authentication) {
      if (basicAuth) {
        // RFC 6749 §2.3.1: both parts form-encoded before Base64.
        const user = encodeURIComponent(this.clientId).replace(/%20/g, "+");
        const password = encodeURIComponent(authentication.clientSecret).replace(/%20/g, "+");
        headers["authorization"] = `Basic ${btoa(`${user}:${password}`)}`;
      } else {
        form.set("client_id", this.clientId);
        form.set("client_secret", authentication.clientSecret);
      }
    } else {
      form.set("client_id", this.clientId);
      form.set("client_assertion_type", authentication.clientAssertionType ?? JWT_BEARER_ASSERTION_TYPE);
      form.set("client_assertion", authentication.clientAssertion);
    }
    return { headers, body: form.toString() };
  }

  /** The token endpoint with `extraQueryParameters`; the credential addresses assertions to the bare endpoint. */
  private requestUrl(tokenEndpoint: string): string {
    const extra = this.settings.extraQueryParameters;
    if (extra.length === 0) return tokenEndpoint;
    const url = new URL(tokenEndpoint);
    for (const [name, value] of extra) url.searchParams.set(name, value);
    return url.href;
  }

  /** The token endpoint, and whether a client secret goes in a Basic header there. */
  private async tokenEndpoint(tenant: string, signal: AbortSignal): Promise<{ url: string; basicAuth: boolean }> {
    const { authority, authMethod } = this.settings;
    if (authority.kind === "entra") {
      return { url: entraTokenEndpoint(authority, tenant), basicAuth: authMethod === "client_secret_basic" };
    }
    // Discovery runs once; a failure is not cached, so the next acquisition retries it.
    this.metadata ??= discoverMetadata(authority.issuer, this.settings.transport, this.settings.requestTimeoutMs, signal).catch(
      (error: unknown) => {
        this.metadata = undefined;
        throw error;
      },
    );
    const metadata = await this.metadata;
    return { url: metadata.tokenEndpoint, basicAuth: (authMethod ?? preferredAuthMethod(metadata.authMethods)) === "client_secret_basic" };
  }
}

/**
 * The client authentication a generic server supports, when the user chose none: Basic
 * only when the server lists it and not `client_secret_post`, which stays the default
 * (RFC 8414 §2: an absent list means `client_secret_basic`, but most servers take both,
 * and the form keeps the secret out of proxies' header logs).
 */
function preferredAuthMethod(supported: readonly string[] | undefined): "client_secret_post" | "client_secret_basic" {
  if (supported === undefined || supported.includes("client_secret_post")) return "client_secret_post";
  return supported.includes("client_secret_basic") ? "client_secret_basic" : "client_secret_post";
}

import type { AccessTokenResult, AcquireTokenRequest, DaemonClient, DaemonClientOptions } from "./client-types.js";
import type { TelemetryHooks } from "./seams.js";
import { InvalidRequestError } from "./errors.js";
import { redacted } from "./redacted.js";
import { TokenAcquirer } from "./acquisition/token-acquirer.js";
import { resolveClientSettings, type ClientSettings } from "./client/settings.js";
import { ClientCredentialsFetcher } from "./client-credentials/token-request.js";
import { requestTenant, type Authority } from "./lib/authority.js";
import { callHook, errorFields } from "./acquisition/telemetry.js";
import { normalizeEntraScopes, normalizeGenericScopes } from "./lib/scopes.js";

/**
 * Creates a confidential client for the OAuth 2.0 client credentials grant.
 *
 * Configuration is checked here, before any I/O; each mistake is a
 * {@link ConfigurationError} that names the fix.
 *
 * @example
 * const client = createDaemonClient({
 *   tenantId: "contoso.onmicrosoft.com",
 *   clientId: process.env.AZURE_CLIENT_ID,
 *   credential: clientSecret(process.env.AZURE_CLIENT_SECRET),
 * });
 * const { accessToken } = await client.acquireTokenForClient({ scopes: ["https://graph.microsoft.com/.default"] });
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 */
export function createDaemonClient(options: DaemonClientOptions): DaemonClient {
  return new ConfidentialClient(resolveClientSettings(options));
}

/**
 * The client credentials grant's {@link DaemonClient}: checks each request (scopes,
 * tenant), answers hits from the {@link TokenAcquirer}'s index, hands misses to it with
 * the client credentials grant as its token source, and reports telemetry.
 */
class ConfidentialClient implements DaemonClient {
  readonly clientId: string;
  readonly tenantId: string | undefined;
  readonly clientCapabilities: readonly string[];
  private readonly authority: Authority;
  private readonly telemetry: TelemetryHooks | undefined;
  private readonly acquirer: TokenAcquirer;
  private readonly normalizeScopes: (scopes: readonly string[]) => readonly string[];

  constructor(private readonly settings: ClientSettings) {
    this.clientId = settings.clientId;
    this.authority = settings.authority;
    this.tenantId = settings.authority.kind === "entra" ? settings.authority.defaultTenant : undefined;
    this.clientCapabilities = settings.clientCapabilities;
    this.telemetry = settings.telemetry;
    this.acquirer = new TokenAcquirer(new ClientCredentialsFetcher(settings, this.guardedTelemetry()), settings);
    this.normalizeScopes = this.authority.kind === "entra" ? normalizeEntraScopes : normalizeGenericScopes;
    redacted(this, `DaemonClient(clientId=${this.clientId}, authority=${settings.authorityId})`);
  }

  acquireTokenForClient(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    // The hooks are looked up per call, so a client without them pays nothing on a hit.
    const telemetry = this.telemetry;
    return telemetry === undefined || (telemetry.onAcquire === undefined && telemetry.onAcquireError === undefined)
      ? this.acquire(request)
      : this.acquireReporting(request, telemetry);
  }

  clearCache(): void {
    this.acquirer.clear();
  }

  dispose(): Promise<void> {
    return this.acquirer.dispose();
  }

  private async acquire(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    if (request === null || typeof request !== "object") {
      throw new InvalidRequestError("acquireTokenForClient needs a request: { scopes: ['<resource>/.default'] }.");
    }
    const requested = request.scopes;
    const tenantId: unknown = request.tenantId;
    if (
      request.forceRefresh !== true &&
      request.claims === undefined &&
      Array.isArray(requested) &&
      requested.length === 1 &&
      typeof requested[0] === "string" &&
      // A space joins the scopes of one index key ("a b" holds ["a","b"]), so a raw scope
      // holding one is not a scope: the cold path refuses it, and so must a hit.
      !requested[0].includes(" ") &&
      (tenantId === undefined || typeof tenantId === "string")
    ) {
      // Hot path: the raw tenant and scope are looked up as they are (a tenant in another
      // case misses here and hits below, once normalized); no key is built, nothing allocated.
      const hit = this.acquirer.cached(tenantId ?? this.authority.defaultTenant, requested[0]);
      if (hit !== undefined) return hit;
    }
    const scopes = this.normalizeScopes(requested);
    const target = this.acquirer.target(requestTenant(this.authority, request.tenantId), scopes);
    return this.acquirer.acquire(target, request);
  }

  private async acquireReporting(request: AcquireTokenRequest, telemetry: TelemetryHooks): Promise<AccessTokenResult> {
    const started = performance.now();
    let result: AccessTokenResult;
    try {
      result = await this.acquire(request);
    } catch (error) {
      if (telemetry.onAcquireError !== undefined) {
        const fields = errorFields(error);
        this.callHook("onAcquireError", () => telemetry.onAcquireError?.({ durationMs: performance.now() - started, ...fields }));
      }
      throw error;
    }
    if (telemetry.onAcquire !== undefined) {
      this.callHook("onAcquire", () =>
        telemetry.onAcquire?.({
          source: result.source,
          durationMs: performance.now() - started,
          cacheKey: this.acquirer.cacheKey(result.tenantId, result.scopes),
          expiresOn: result.expiresOn,
        }),
      );
    }
    return result;
  }

  /** `onTokenRequest`, guarded like `onAcquire`: a telemetry bug must not cost the caller its token. */
  private guardedTelemetry(): TelemetryHooks | undefined {
    const hooks = this.telemetry;
    if (hooks?.onTokenRequest === undefined) return undefined;
    return {
      onTokenRequest: (event) => {
        this.callHook("onTokenRequest", () => hooks.onTokenRequest?.(event));
      },
    };
  }

  /** Runs a telemetry hook; one that throws is logged and otherwise ignored. */
  private callHook(name: keyof TelemetryHooks, call: () => void): void {
    callHook(this.settings.logger, name, call);
  }
}

import type { AccessTokenResult, AcquireTokenRequest, DaemonClient, DaemonClientOptions } from "./client-types.js";
import type { TelemetryHooks } from "./seams.js";
import { InvalidRequestError } from "./errors.js";
import { redacted } from "./redacted.js";
import { TokenAcquirer } from "./acquisition/token-acquirer.js";
import type { TokenFetcher } from "./acquisition/token-fetcher.js";
import { resolveClientSettings, type ClientSettings } from "./client/settings.js";
import { ClientCredentialsFetcher } from "./client-credentials/token-request.js";
import { requestTenant, type Authority } from "./lib/authority.js";
import { acquireReporting, callHook } from "./acquisition/telemetry.js";
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
  /** `enableCae` requests of a client that does not declare "cp1": tokens of their own, made on first use. */
  private caeAcquirer: TokenAcquirer | undefined;
  private disposed = false;
  private readonly declaresCae: boolean;
  private readonly normalizeScopes: (scopes: readonly string[]) => readonly string[];

  constructor(private readonly settings: ClientSettings) {
    this.clientId = settings.clientId;
    this.authority = settings.authority;
    this.tenantId = settings.authority.kind === "entra" ? settings.authority.defaultTenant : undefined;
    this.clientCapabilities = settings.clientCapabilities;
    this.declaresCae = settings.clientCapabilities.includes("cp1");
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
    this.caeAcquirer?.clear();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([this.acquirer.dispose(), this.caeAcquirer?.dispose()]);
  }

  /** The acquirer of a request: the client's own, or for `enableCae` one whose requests add "cp1". */
  private acquirerFor(request: AcquireTokenRequest): TokenAcquirer {
    const enableCae: unknown = request.enableCae;
    if (enableCae !== undefined && typeof enableCae !== "boolean") throw new InvalidRequestError("'enableCae' must be true or false.");
    // A client declaring cp1 is CAE already; after dispose its own acquirer answers, with its "disposed" error.
    if (enableCae !== true || this.declaresCae || this.disposed) return this.acquirer;
    return (this.caeAcquirer ??= this.createCaeAcquirer());
  }

  /**
   * The same client with "cp1" added to its capabilities, as @azure/identity keeps a CAE
   * MSAL app beside the plain one: a CAE token (long-lived, revocable by a claims
   * challenge) is never served to a caller that cannot answer one, nor a plain token to a
   * caller that asked for CAE. Its fetcher's authority names the capabilities, so the
   * two never share a cache key, not even in a shared store.
   */
  private createCaeAcquirer(): TokenAcquirer {
    const settings: ClientSettings = Object.freeze({ ...this.settings, clientCapabilities: [...this.clientCapabilities, "cp1"] });
    const fetcher = new ClientCredentialsFetcher(settings, this.guardedTelemetry());
    // The credentials are the client's: its own fetcher disposes them, once.
    const borrowing: TokenFetcher = {
      kind: fetcher.kind,
      authority: fetcher.authority,
      clientId: fetcher.clientId,
      fetchToken: (target, context) => fetcher.fetchToken(target, context),
    };
    return new TokenAcquirer(borrowing, settings);
  }

  private async acquire(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    if (request === null || typeof request !== "object") {
      throw new InvalidRequestError("acquireTokenForClient needs a request: { scopes: ['<resource>/.default'] }.");
    }
    const acquirer = this.acquirerFor(request);
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
      const hit = acquirer.cached(tenantId ?? this.authority.defaultTenant, requested[0]);
      if (hit !== undefined) return hit;
    }
    const scopes = this.normalizeScopes(requested);
    const target = acquirer.target(requestTenant(this.authority, request.tenantId), scopes);
    return acquirer.acquire(target, request);
  }

  private acquireReporting(request: AcquireTokenRequest, telemetry: TelemetryHooks): Promise<AccessTokenResult> {
    const started = performance.now();
    return acquireReporting(telemetry, this.settings.logger, started, this.acquire(request), (result) =>
      this.acquirerFor(request).cacheKey(result.tenantId, result.scopes),
    );
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

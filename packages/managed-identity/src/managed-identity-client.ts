import {
  redacted,
  type AccessTokenResult,
  type AcquireTokenRequest,
  type HttpTransport,
  type TelemetryHooks,
} from "@daemon-auth/core";
import { acquireReporting, resolveAcquisitionSettings, TokenAcquirer, type AcquisitionSettings } from "@daemon-auth/core/acquisition";
import { optionChecks, type OptionChecks } from "@daemon-auth/core/adapter";
import { arcKeyDirectory } from "./lib/azure-arc-key.js";
import { ManagedIdentityFetcher } from "./lib/managed-identity-fetcher.js";
import { pinnedTransport } from "./lib/pinned-transport.js";
import { MAX_POLICY_ATTEMPTS, MAX_POLICY_DELAY_MS } from "./lib/retry-policy.js";
import { managedIdentityScope, requestScopes } from "./lib/scope.js";
import { detectSource, type SourceEndpoint } from "./lib/sources.js";
import {
  describeIdentity,
  KNOWN_OPTIONS,
  resolveEnvironment,
  resolveIdentity,
  type ManagedIdentityClient,
  type ManagedIdentityClientOptions,
  type ManagedIdentitySource,
} from "./options.js";

/** The index's tenant for every managed identity token: the identity has one tenant, its own. */
const IDENTITY_TENANT = "managed-identity";

/**
 * Creates a client for the tokens of the managed identity this process runs as: the
 * same `DaemonClient` interface as `createDaemonClient`, so `toTokenCredential`,
 * the API fetch helper and every cache store work unchanged. The source (IMDS, App
 * Service, Azure Arc, Service Fabric, Cloud Shell, Machine Learning) is detected from the
 * environment as `@azure/msal-node` detects it, reported as `client.source` and logged
 * once; core's acquisition machinery (in-process index, single-flight, shared store and
 * lock, proactive refresh, serve-stale, `Retry-After`) caches and refreshes the tokens.
 *
 * Configuration is checked here, before any I/O; each mistake is a `ConfigurationError`
 * that names the fix.
 *
 * @example
 * const client = createManagedIdentityClient(); // system-assigned
 * const { accessToken } = await client.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"] });
 * @example
 * const client = createManagedIdentityClient({ clientId: process.env.AZURE_CLIENT_ID, cache: createRedisCache({ url }) });
 * @see https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
 * @see https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
 */
export function createManagedIdentityClient(options: ManagedIdentityClientOptions = {}): ManagedIdentityClient {
  return managedIdentityClient(options, optionChecks("createManagedIdentityClient"));
}

/**
 * {@link createManagedIdentityClient} whose option errors name `check`'s factory: the one
 * the user called (`managedIdentityAssertion` creates its client through this).
 */
export function managedIdentityClient(options: ManagedIdentityClientOptions, check: OptionChecks): ManagedIdentityClient {
  if (options === null || typeof options !== "object") {
    throw check.error("the options must be an object, e.g. {} for the system-assigned identity or { clientId } for a user-assigned one.");
  }
  check.knownKeys(options, KNOWN_OPTIONS);
  const identity = resolveIdentity(options, check);
  const env = resolveEnvironment(options.env, check);
  const { env: _env, clientId: _clientId, objectId: _objectId, resourceId: _resourceId, azureArcKeyDirectoryForTests, ...shared } = options;
  // The lock a shared store takes must outlive the platform's longest retry run (IMDS 410: ~70 s).
  const retry = { maxAttempts: MAX_POLICY_ATTEMPTS, maxDelayMs: MAX_POLICY_DELAY_MS };
  const settings = resolveAcquisitionSettings({ ...shared, retry }, check.factory);
  const source = detectSource(env, identity);
  const platform = process.platform;
  if (azureArcKeyDirectoryForTests !== undefined && typeof azureArcKeyDirectoryForTests !== "string") {
    throw check.error("'azureArcKeyDirectoryForTests' must be a directory path (tests only).");
  }
  const arc = { directory: azureArcKeyDirectoryForTests ?? arcKeyDirectory(platform, env), platform };
  const fetcher = createFetcher(source, identity, settings, options.transport, arc);
  const client = new MiClient(source.name, describeIdentity(identity), new TokenAcquirer(fetcher, settings), settings);
  settings.logger?.info?.("daemon-auth: managed identity source detected", {
    source: source.name,
    endpoint: `${source.url.origin}${source.url.pathname}`,
    identity: identity === undefined ? "system-assigned" : identity.kind,
  });
  if (source.name === "service-fabric" && identity !== undefined) {
    settings.logger?.warn?.("daemon-auth: Service Fabric user-assigned identities are configured in the cluster, not at run time; the id is sent but may be ignored");
  }
  return client;
}

function createFetcher(
  source: SourceEndpoint,
  identity: ReturnType<typeof resolveIdentity>,
  settings: AcquisitionSettings,
  transport: HttpTransport | undefined,
  arc: { directory: string | undefined; platform: NodeJS.Platform },
): ManagedIdentityFetcher {
  if (source.thumbprint === undefined) return new ManagedIdentityFetcher(source, identity, { settings, transport: settings.transport, arc });
  // Service Fabric: only a connection to the pinned certificate may carry the identity header.
  if (transport !== undefined) {
    settings.logger?.warn?.("daemon-auth: 'transport' is not used for Service Fabric: its endpoint's certificate is pinned by IDENTITY_SERVER_THUMBPRINT");
  }
  const pinned = pinnedTransport(source.thumbprint);
  return new ManagedIdentityFetcher(source, identity, { settings, transport: pinned.transport, arc, closeTransport: () => pinned.close() });
}

/** The managed identity {@link DaemonClient}: scope checks and the hot path here, everything else in the acquirer. */
class MiClient implements ManagedIdentityClient {
  readonly tenantId = undefined;

  constructor(
    readonly source: ManagedIdentitySource,
    readonly clientId: string,
    private readonly acquirer: TokenAcquirer,
    private readonly settings: AcquisitionSettings,
  ) {
    redacted(this, `ManagedIdentityClient(source=${source}, identity=${clientId})`);
  }

  acquireTokenForClient(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    const telemetry = this.settings.telemetry;
    return telemetry?.onAcquire === undefined && telemetry?.onAcquireError === undefined ? this.acquire(request) : this.acquireReporting(request, telemetry);
  }

  /** Forgets every token in the in-process index (the shared store is left alone). */
  clearCache = (): void => this.acquirer.clear();

  /** Stops background refreshes and closes what the source holds. Safe to call twice. */
  dispose = (): Promise<void> => this.acquirer.dispose();

  private async acquire(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    const scopes = requestScopes(request);
    if (request.forceRefresh !== true && request.claims === undefined && Array.isArray(scopes) && scopes.length === 1 && typeof scopes[0] === "string") {
      // Hot path: the caller's own string, looked up as the index holds it; nothing built.
      const hit = this.acquirer.cached(IDENTITY_TENANT, scopes[0]);
      if (hit !== undefined) return hit;
    }
    return this.acquirer.acquire(this.acquirer.target(IDENTITY_TENANT, [managedIdentityScope(scopes)]), request);
  }

  private acquireReporting(request: AcquireTokenRequest, telemetry: TelemetryHooks): Promise<AccessTokenResult> {
    const started = performance.now();
    return acquireReporting(telemetry, this.settings.logger, started, this.acquire(request), (result) => this.acquirer.cacheKey(result.tenantId, result.scopes));
  }
}

// startEmulator: assembles the directory, the routes, the steps around them and
// the HTTP server, and hands back the emulator's run-time controls.
import { X509Certificate } from "node:crypto";
import { certificateThumbprints } from "./certificate.js";
import { validateEmulatorConfigShape } from "./config/load.js";
import { withManagedIdentityPrincipals } from "./config/managed-identities.js";
import type { ApplicationConfig, CertificateConfig, FederatedCredentialConfig, GrantConfig, SecretConfig, TenantConfig, TrustedCertificateSubjectConfig } from "./config/types.js";
import { resolveOptions, type EmulatorOptions } from "./emulator-options.js";
import { Directory } from "./lib/directory.js";
import { EXTERNAL_SEGMENT, externalJwks, signExternalToken, type ExternalTokenOptions } from "./lib/external-issuer.js";
import { IssuerKeys } from "./lib/federated-assertion.js";
import { FaultInjector } from "./lib/faults/injector.js";
import { LoopDetector } from "./lib/faults/loop-detection.js";
import { ArcKeyFiles } from "./lib/arc-key-files.js";
import { ManagedIdentityTokens } from "./lib/managed-identity-token.js";
import type { Faults, LoopDetectionOptions } from "./lib/faults/types.js";
import { createTokenSigner } from "./lib/signing-key.js";
import { loadOrCreateTlsMaterial, serverNames } from "./lib/tls.js";
import { Graph } from "./routes/graph.js";
import { KeyVault, type CreateVaultCertificateOptions, type SetVaultSecretOptions, type VaultCertificateInfo } from "./routes/key-vault.js";
import { managedIdentityEnvironment, ManagedIdentityRoute, newIdentityHeader, type ManagedIdentitySource } from "./routes/managed-identity.js";
import { routeTable } from "./routes/table.js";
import { faultStep } from "./server/fault-step.js";
import { listen } from "./server/http-server.js";
import { createHandler, internalErrorStep } from "./server/pipeline.js";
import { RequestLog, type TokenRequestFilter } from "./server/recording.js";
import type { RecordedRequest } from "./server/request.js";

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
  /**
   * Trusts a subject name and issuing CA for an app (SN+I, Entra's `trustedCertificateSubjects`):
   * any certificate with that subject issued by that CA is then accepted when the assertion
   * carries its chain in `x5c`, and refused without it (AADSTS700027).
   */
  trustCertificateSubject(clientId: string, trust: TrustedCertificateSubjectConfig): void;
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
  /**
   * Makes a new version of a Key Vault certificate — a rotation when it exists: a new
   * key that never leaves the emulator, and a self-signed certificate for it. Returns
   * the public parts (PEM, thumbprints) to register on an app with {@link Emulator.addCertificate}.
   */
  createVaultCertificate(name: string, options?: CreateVaultCertificateOptions): Promise<VaultCertificateInfo>;
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
  /**
   * The environment variables that point a process (msal-node, `@azure/identity`,
   * `@daemon-auth/managed-identity`) at this emulator's managed identity endpoint of
   * `source`: `imds` → `AZURE_POD_IDENTITY_AUTHORITY_HOST`; `app-service` →
   * `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` (this emulator's random header value);
   * `cloud-shell` → `MSI_ENDPOINT`; `arc` → `IDENTITY_ENDPOINT` and `IMDS_ENDPOINT`;
   * `service-fabric` (HTTPS only) → `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` and
   * `IDENTITY_SERVER_THUMBPRINT` (the server certificate's SHA-1 thumbprint).
   * Throws {@link EmulatorConfigError} for a source the emulator does not serve.
   */
  managedIdentityEnvironment(source: ManagedIdentitySource): Record<string, string>;
  /** Turns Entra's loop detection (AADSTS50196) on with these limits, or off with undefined. */
  setLoopDetection(options: LoopDetectionOptions | undefined): void;
  /** Stops listening and closes every socket, keep-alive ones too. Safe to call twice. */
  close(): Promise<void>;
}

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
  const settings = resolveOptions(options);
  const { clock, log } = settings;
  const config = validateEmulatorConfigShape(options.config ?? { tenants: [], applications: [] });
  const directory = new Directory(withManagedIdentityPrincipals(config));
  const faults = new FaultInjector(directory);
  for (const rule of config.faults ?? []) faults.add(rule);
  const loops = new LoopDetector(options.loopDetection ?? config.loopDetection);

  const [signer, tls] = await Promise.all([
    createTokenSigner(),
    settings.certificateDir === undefined ? Promise.resolve(undefined) : loadOrCreateTlsMaterial(settings.certificateDir, serverNames(settings.host)),
  ]);
  const vault = new KeyVault(options.keyVault, signer, clock, directory);
  const graph = new Graph(options.graph, signer, directory);
  // The emulator's own issuers are resolved in-process, so HTTPS with a private CA needs no trust setup: its
  // external issuer, and its token issuer of each tenant (managed identity tokens as federated credentials).
  let externalIssuer = "";
  let origin = "";
  const ownIssuer = (issuer: string): boolean => issuer === externalIssuer || directory.tenantIds().some((id) => issuer === `${origin}/${id}/v2.0`);
  const issuerKeys = new IssuerKeys((issuer) => (ownIssuer(issuer) ? externalJwks(signer) : undefined));
  const identityHeader = newIdentityHeader();
  const arcKeys = new ArcKeyFiles(settings.arcKeyDirectory);
  const managedIdentity = new ManagedIdentityRoute(new ManagedIdentityTokens(config.managedIdentities ?? [], directory, signer, settings.tokenLifetimeSeconds), identityHeader, arcKeys);
  const requestLog = new RequestLog(directory, log);

  const tokens = {
    directory,
    signer,
    loops,
    issuerKeys,
    tokenLifetimeSeconds: settings.tokenLifetimeSeconds,
    refreshInSeconds: settings.refreshInSeconds,
    seenJtis: options.strictJti === true ? new Map<string, number>() : undefined,
  };
  const handler = createHandler(routeTable({ directory, signer, tokens, graph, vault, managedIdentity }), [requestLog.step, internalErrorStep(log), faultStep(faults)]);
  const server = await listen({
    host: settings.host,
    port: settings.port,
    tls: tls === undefined ? undefined : { keyPem: tls.serverKeyPem, certificatePem: tls.serverCertificatePem },
    clock,
    handler,
  });
  const baseUrl = server.baseUrl;
  const serverThumbprint = tls === undefined ? undefined : certificateThumbprints(new X509Certificate(tls.serverCertificatePem)).sha1Hex;
  externalIssuer = `${baseUrl}/${EXTERNAL_SEGMENT}`;
  origin = baseUrl;

  return {
    url: baseUrl,
    ...(tls === undefined ? {} : { caCertificatePem: tls.caCertificatePem, caCertificatePath: tls.caCertificatePath }),
    authority: (tenant) => `${baseUrl}/${tenant}`,
    tokenEndpoint: (tenant) => `${baseUrl}/${tenant}/oauth2/v2.0/token`,
    issuer: (tenantId) => `${baseUrl}/${tenantId}/v2.0`,
    jwksUri: (tenant) => `${baseUrl}/${tenant}/discovery/v2.0/keys`,
    get requests() {
      return requestLog.requests();
    },
    tokenRequestCount: (filter) => requestLog.tokenRequestCount(filter),
    resetRequests: () => requestLog.reset(),
    addTenant: (tenant) => directory.addTenant(tenant),
    addApplication: (application) => directory.addApplication(application),
    addSecret: (clientId, secret) => directory.addSecret(clientId, secret),
    removeSecret: (clientId, value) => directory.removeSecret(clientId, value),
    addCertificate: (clientId, certificate) => directory.addCertificate(clientId, certificate),
    trustCertificateSubject: (clientId, trust) => directory.trustCertificateSubject(clientId, trust),
    removeCertificate: (clientId, thumbprintOrPem) => directory.removeCertificate(clientId, thumbprintOrPem),
    addFederatedCredential: (clientId, credential) => directory.addFederatedCredential(clientId, credential),
    removeFederatedCredential: (clientId, nameOrSubject) => directory.removeFederatedCredential(clientId, nameOrSubject),
    externalIssuer,
    issueExternalToken: (tokenOptions) => signExternalToken(signer, externalIssuer, tokenOptions, clock()),
    grant: (grant) => directory.grant(grant),
    revoke: (grant) => directory.revoke(grant),
    vaultUrl: baseUrl,
    setVaultSecret: (name, value, secretOptions) => vault.set(name, value, secretOptions),
    disableVaultSecretVersion: (name, version) => vault.disable(name, version),
    createVaultCertificate: (name, certificateOptions) => vault.createCertificate(name, certificateOptions),
    graphUrl: `${baseUrl}/v1.0`,
    requireClaims: (clientId) => graph.requireClaims(clientId, clock()),
    faults,
    managedIdentityEnvironment: (source) => managedIdentityEnvironment(source, { origin: baseUrl, identityHeader, serverThumbprint }),
    setLoopDetection: (loopDetection) => loops.configure(loopDetection),
    close: () => Promise.all([server.close(), arcKeys.removeAll()]).then(() => undefined),
  };
}

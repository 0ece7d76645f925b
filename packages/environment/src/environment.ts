import { ConfigurationError, type ClientCredential } from "@daemon-auth/core";
import { federatedTokenFileCredential } from "@daemon-auth/credential-assertion";
import { certificateCredential } from "@daemon-auth/credential-certificate";
import { clientSecret } from "@daemon-auth/credential-secret";

/**
 * The variables read, with the names `@azure/identity` uses: EnvironmentCredential's,
 * WorkloadIdentityCredential's `AZURE_FEDERATED_TOKEN_FILE`, and `REDIS_URL`.
 */
export const ENVIRONMENT_VARIABLES = {
  tenantId: "AZURE_TENANT_ID",
  clientId: "AZURE_CLIENT_ID",
  clientSecret: "AZURE_CLIENT_SECRET",
  certificatePath: "AZURE_CLIENT_CERTIFICATE_PATH",
  certificatePassword: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  sendCertificateChain: "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
  username: "AZURE_USERNAME",
  password: "AZURE_PASSWORD",
  federatedTokenFile: "AZURE_FEDERATED_TOKEN_FILE",
  authorityHost: "AZURE_AUTHORITY_HOST",
  regionalAuthority: "AZURE_REGIONAL_AUTHORITY_NAME",
  redisUrl: "REDIS_URL",
} as const;

/** Which credential the variables selected. */
export type EnvironmentCredentialKind = "secret" | "certificate" | "federated-token-file";

/** The `@azure/identity` credential that would have read the same variables. */
export type AzureIdentityCredentialName = "EnvironmentCredential" | "WorkloadIdentityCredential";

/** The part of `createDaemonClient`'s options the environment provides. */
export interface EnvironmentClientOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly authorityHost?: string;
  /** From `AZURE_REGIONAL_AUTHORITY_NAME`; its `AutoDiscoverRegion` becomes `"auto"`. */
  readonly azureRegion?: string;
  readonly credential: ClientCredential;
}

/** What {@link configurationFromEnvironment} read. */
export interface EnvironmentConfiguration {
  /** Spread into `createDaemonClient({ ...config.clientOptions, cache })`. */
  readonly clientOptions: EnvironmentClientOptions;
  readonly credentialKind: EnvironmentCredentialKind;
  /**
   * The `@azure/identity` credential whose variables were used: `EnvironmentCredential`
   * for a secret or a certificate, `WorkloadIdentityCredential` for a token file.
   */
  readonly pickedBy: AzureIdentityCredentialName;
  /** `REDIS_URL`, when set. */
  readonly redisUrl: string | undefined;
  /** One line for logs and `doctor`; names files and ids, never a secret. */
  describe(): string;
}

/**
 * Reads a daemon's configuration from the environment in `@azure/identity`'s own order
 * (DefaultAzureCredential's: EnvironmentCredential, then WorkloadIdentityCredential):
 * `AZURE_CLIENT_SECRET`, else `AZURE_CLIENT_CERTIFICATE_PATH` (+
 * `AZURE_CLIENT_CERTIFICATE_PASSWORD`, `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`), else
 * `AZURE_USERNAME` + `AZURE_PASSWORD` — a user's password, which EnvironmentCredential
 * would use and a daemon refuses — else `AZURE_FEDERATED_TOKEN_FILE`, which
 * WorkloadIdentityCredential reads (EnvironmentCredential does not). {@link
 * EnvironmentConfiguration.pickedBy} and `describe()` say which one applied. `AZURE_AUTHORITY_HOST` points the client at another Entra-shaped host, such as
 * a national cloud or the daemon-auth emulator. Nothing is read from disk here: a
 * certificate or token file is read on first use, so a bad file fails the first token
 * request with a `CredentialError` that names it.
 *
 * @param env - the variables; an explicit record makes the configuration testable.
 * @default env process.env
 * @throws {ConfigurationError} listing every missing or invalid variable and what to set.
 *
 * @example
 * const config = configurationFromEnvironment();
 * const client = createDaemonClient({ ...config.clientOptions, cache: createMemoryCache() });
 */
export function configurationFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): EnvironmentConfiguration {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const names = ENVIRONMENT_VARIABLES;
  const tenantId = read(names.tenantId);
  const clientId = read(names.clientId);
  const secret = read(names.clientSecret);
  const certificatePath = read(names.certificatePath);
  const tokenFile = read(names.federatedTokenFile);
  const authorityHost = read(names.authorityHost);
  const sendChain = read(names.sendCertificateChain);

  if (secret === undefined && certificatePath === undefined && read(names.username) !== undefined && read(names.password) !== undefined) {
    throw new ConfigurationError(
      `${names.username} and ${names.password} are set: @azure/identity's EnvironmentCredential would sign in as that user with a password, ` +
        `which a daemon never does (app-only tokens come from the app's own credential). Unset them and set ${names.clientSecret}, ` +
        `${names.certificatePath} or ${names.federatedTokenFile}.`,
    );
  }
  const problems: string[] = [];
  if (tenantId === undefined) problems.push(`${names.tenantId} (the directory (tenant) id of the app registration)`);
  if (clientId === undefined) problems.push(`${names.clientId} (the application (client) id)`);
  if (secret === undefined && certificatePath === undefined && tokenFile === undefined) {
    problems.push(`one of ${names.clientSecret}, ${names.certificatePath} or ${names.federatedTokenFile} (how the app proves its identity)`);
  }
  if (sendChain !== undefined && !/^(true|false|1|0)$/i.test(sendChain)) {
    problems.push(`${names.sendCertificateChain} as "true" or "false" (it is "${sendChain.slice(0, 20)}")`);
  }
  if (tenantId === undefined || clientId === undefined || problems.length > 0) {
    throw new ConfigurationError(`Set ${problems.join("; ")}.`);
  }

  let credential: ClientCredential;
  let credentialKind: EnvironmentCredentialKind;
  let source: string;
  let pickedBy: AzureIdentityCredentialName = "EnvironmentCredential";
  if (secret !== undefined) {
    credential = clientSecret(secret);
    credentialKind = "secret";
    source = `client secret from ${names.clientSecret}`;
  } else if (certificatePath !== undefined) {
    const password = env[names.certificatePassword];
    credential = certificateCredential({
      path: certificatePath,
      ...(password === undefined || password === "" ? {} : { password }),
      sendCertificateChain: sendChain !== undefined && /^(true|1)$/i.test(sendChain),
    });
    credentialKind = "certificate";
    source = `certificate file ${certificatePath}`;
  } else {
    credential = federatedTokenFileCredential({ path: tokenFile });
    credentialKind = "federated-token-file";
    pickedBy = "WorkloadIdentityCredential";
    source = `federated token file ${tokenFile}`;
  }

  const region = read(names.regionalAuthority);
  const azureRegion = region === "AutoDiscoverRegion" ? "auto" : region;
  const clientOptions: EnvironmentClientOptions = {
    tenantId,
    clientId,
    ...(authorityHost === undefined ? {} : { authorityHost }),
    ...(azureRegion === undefined ? {} : { azureRegion }),
    credential,
  };
  const summary = `${pickedBy}: tenant ${tenantId}, client ${clientId}, ${source}${authorityHost === undefined ? "" : `, authority host ${authorityHost}`}${
    azureRegion === undefined ? "" : `, region ${azureRegion}`
  }`;
  return { clientOptions, credentialKind, pickedBy, redisUrl: read(names.redisUrl), describe: () => summary };
}

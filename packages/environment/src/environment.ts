import { ConfigurationError, type ClientCredential } from "@daemon-auth/core";
import { federatedTokenFileCredential } from "@daemon-auth/credential-assertion";
import { certificateCredential } from "@daemon-auth/credential-certificate";
import { clientSecret } from "@daemon-auth/credential-secret";

/** The variables read, with the names `@azure/identity`'s EnvironmentCredential uses (plus `REDIS_URL`). */
export const ENVIRONMENT_VARIABLES = {
  tenantId: "AZURE_TENANT_ID",
  clientId: "AZURE_CLIENT_ID",
  clientSecret: "AZURE_CLIENT_SECRET",
  certificatePath: "AZURE_CLIENT_CERTIFICATE_PATH",
  certificatePassword: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  sendCertificateChain: "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
  federatedTokenFile: "AZURE_FEDERATED_TOKEN_FILE",
  authorityHost: "AZURE_AUTHORITY_HOST",
  redisUrl: "REDIS_URL",
} as const;

/** Which credential the variables selected. */
export type EnvironmentCredentialKind = "secret" | "certificate" | "federated-token-file";

/** The part of `createDaemonClient`'s options the environment provides. */
export interface EnvironmentClientOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly authorityHost?: string;
  readonly credential: ClientCredential;
}

/** What {@link configurationFromEnvironment} read. */
export interface EnvironmentConfiguration {
  /** Spread into `createDaemonClient({ ...config.clientOptions, cache })`. */
  readonly clientOptions: EnvironmentClientOptions;
  readonly credentialKind: EnvironmentCredentialKind;
  /** `REDIS_URL`, when set. */
  readonly redisUrl: string | undefined;
  /** One line for logs and `doctor`; names files and ids, never a secret. */
  describe(): string;
}

/**
 * Reads a daemon's configuration from the environment, with the variable names and the
 * credential order of `@azure/identity`'s EnvironmentCredential: `AZURE_CLIENT_SECRET`,
 * else `AZURE_CLIENT_CERTIFICATE_PATH` (+ `AZURE_CLIENT_CERTIFICATE_PASSWORD`,
 * `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`), else `AZURE_FEDERATED_TOKEN_FILE` (workload
 * identity). `AZURE_AUTHORITY_HOST` points the client at another Entra-shaped host, such as
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
    source = `federated token file ${tokenFile}`;
  }

  const clientOptions: EnvironmentClientOptions = { tenantId, clientId, ...(authorityHost === undefined ? {} : { authorityHost }), credential };
  const summary = `tenant ${tenantId}, client ${clientId}, ${source}${authorityHost === undefined ? "" : `, authority host ${authorityHost}`}`;
  return { clientOptions, credentialKind, redisUrl: read(names.redisUrl), describe: () => summary };
}

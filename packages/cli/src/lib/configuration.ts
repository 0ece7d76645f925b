// Flags and AZURE_* variables → one client configuration, shared by `token` and `doctor`.
import { CLOUD_AUTHORITY_HOSTS, type DaemonClientOptions } from "@daemon-auth/core";
import {
  configurationFromEnvironment,
  ENVIRONMENT_VARIABLES as VARIABLES,
  type EnvironmentClientOptions,
  type EnvironmentCredentialKind,
} from "@daemon-auth/environment";
import { UsageError } from "./args.js";
import type { CliIo } from "./io.js";

/** The flags that say which app, tenant and credential to use. */
export const CONFIGURATION_OPTIONS = {
  tenant: { type: "string" },
  "client-id": { type: "string" },
  "client-secret": { type: "string" },
  certificate: { type: "string" },
  password: { type: "string" },
  "send-x5c": { type: "boolean" },
  "assertion-file": { type: "string" },
  authority: { type: "string" },
  "known-authority": { type: "string", multiple: true },
} as const;

/** Help text of {@link CONFIGURATION_OPTIONS}, shared by the commands that take them. */
export const CONFIGURATION_HELP = `Configuration (each flag overrides its variable):
  --tenant <id>              tenant GUID or verified domain              AZURE_TENANT_ID
  --client-id <id>           application (client) id                     AZURE_CLIENT_ID
  --client-secret <secret>   client secret; "-" reads it from stdin      AZURE_CLIENT_SECRET
  --certificate <file>       PEM (certificate + key) or PFX file         AZURE_CLIENT_CERTIFICATE_PATH
  --password <password>      password of the key or PFX; "-" = stdin     AZURE_CLIENT_CERTIFICATE_PASSWORD
  --send-x5c                 send the certificate chain (x5c) for SNI    AZURE_CLIENT_SEND_CERTIFICATE_CHAIN
  --assertion-file <file>    federated token file (workload identity)    AZURE_FEDERATED_TOKEN_FILE
  --authority <url>          sign-in host, or host and tenant as MSAL    AZURE_AUTHORITY_HOST
                             takes it (https://login.microsoftonline.com/<tenant>)
                             [default: ${CLOUD_AUTHORITY_HOSTS.public}]
  --known-authority <host>   trust this sign-in host (not a Microsoft cloud); repeatable,
                             as MSAL's knownAuthorities: --known-authority login.contoso.com
  A credential flag replaces the credential the variables select. Prefer the variables
  or "-" for secrets: a secret given as a flag shows in \`ps\` and in shell history.
`;

/** The values of {@link CONFIGURATION_OPTIONS} as `parseArgs` returns them. */
export interface ConfigurationFlags {
  readonly tenant?: string | undefined;
  readonly "client-id"?: string | undefined;
  readonly "client-secret"?: string | undefined;
  readonly certificate?: string | undefined;
  readonly password?: string | undefined;
  readonly "send-x5c"?: boolean | undefined;
  readonly "assertion-file"?: string | undefined;
  readonly authority?: string | undefined;
  readonly "known-authority"?: string[] | undefined;
}

/** A resolved configuration: options for `createDaemonClient` and a printable summary. */
export interface CliConfiguration {
  readonly clientOptions: EnvironmentClientOptions & Pick<DaemonClientOptions, "knownAuthorities">;
  readonly credentialKind: EnvironmentCredentialKind;
  /** The sign-in host in use, without a trailing slash. */
  readonly authorityHost: string;
  /**
   * How the host was given: `--authority` as a bare host (`"host"`) or as MSAL's host
   * plus tenant (`"host-and-tenant"`), `AZURE_AUTHORITY_HOST` (`"environment"`), or not
   * at all (`"default"`).
   */
  readonly authorityForm: AuthorityForm;
  /** One line naming each value and where it came from; never a secret. */
  readonly description: string;
}

/** See {@link CliConfiguration.authorityForm}. */
export type AuthorityForm = "host" | "host-and-tenant" | "environment" | "default";

const CREDENTIAL_FLAGS = ["client-secret", "certificate", "assertion-file"] as const;
const CREDENTIAL_VARIABLES = [VARIABLES.clientSecret, VARIABLES.certificatePath, VARIABLES.federatedTokenFile] as const;

/**
 * Resolves the configuration from the flags, falling back to the `AZURE_*` variables,
 * by handing `configurationFromEnvironment` the variables with the flags laid over them:
 * the CLI and a daemon reading its environment build the very same credential.
 *
 * @throws {UsageError} when flags conflict or a required value is missing from both.
 * @throws {ConfigurationError} when a value is invalid (from `@daemon-auth/environment`).
 */
export async function resolveConfiguration(flags: ConfigurationFlags, io: CliIo): Promise<CliConfiguration> {
  const credentialFlags = CREDENTIAL_FLAGS.filter((name) => flags[name] !== undefined);
  if (credentialFlags.length > 1) {
    throw new UsageError(`give one credential, not ${credentialFlags.map((name) => `--${name}`).join(" and ")}`);
  }
  const variables: Record<string, string | undefined> = {};
  for (const name of Object.values(VARIABLES)) variables[name] = nonEmpty(io.env[name]);
  const origin = new Map<string, string>();
  const set = (variable: string, flag: string, value: string | undefined): void => {
    if (value === undefined) return;
    variables[variable] = value;
    origin.set(variable, `--${flag}`);
  };
  // A credential flag replaces the variables' choice, which would otherwise win by their order.
  if (credentialFlags.length > 0) for (const name of CREDENTIAL_VARIABLES) variables[name] = undefined;

  set(VARIABLES.tenantId, "tenant", flags.tenant);
  set(VARIABLES.clientId, "client-id", flags["client-id"]);
  set(VARIABLES.clientSecret, "client-secret", await secretFlag(flags, "client-secret", VARIABLES.clientSecret, io));
  set(VARIABLES.certificatePath, "certificate", flags.certificate);
  set(VARIABLES.federatedTokenFile, "assertion-file", flags["assertion-file"]);
  const authority = flags.authority === undefined ? undefined : splitAuthority(flags.authority);
  if (authority?.tenant !== undefined) {
    const tenantFlag = flags.tenant;
    if (tenantFlag !== undefined && tenantFlag.toLowerCase() !== authority.tenant.toLowerCase()) {
      throw new UsageError(`--authority names tenant '${authority.tenant}' and --tenant '${tenantFlag}': give the tenant once`);
    }
    set(VARIABLES.tenantId, "authority", authority.tenant);
  }
  set(VARIABLES.authorityHost, "authority", authority?.host);
  if (flags["send-x5c"] === true) set(VARIABLES.sendCertificateChain, "send-x5c", "true");

  const kind: EnvironmentCredentialKind | undefined =
    variables[VARIABLES.clientSecret] !== undefined
      ? "secret"
      : variables[VARIABLES.certificatePath] !== undefined
        ? "certificate"
        : variables[VARIABLES.federatedTokenFile] !== undefined
          ? "federated-token-file"
          : undefined;
  if ((flags.password !== undefined || flags["send-x5c"] === true) && kind !== "certificate") {
    throw new UsageError("--password and --send-x5c go with a certificate: add --certificate <file> (or set AZURE_CLIENT_CERTIFICATE_PATH)");
  }
  set(VARIABLES.certificatePassword, "password", await secretFlag(flags, "password", VARIABLES.certificatePassword, io));

  const missing = [
    variables[VARIABLES.tenantId] === undefined ? `--tenant (or ${VARIABLES.tenantId})` : "",
    variables[VARIABLES.clientId] === undefined ? `--client-id (or ${VARIABLES.clientId})` : "",
    kind === undefined
      ? `a credential: --client-secret, --certificate or --assertion-file (or ${CREDENTIAL_VARIABLES.join(", ")})`
      : "",
  ].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join("; ")}`);

  const config = configurationFromEnvironment(variables);
  // Checked with the client's other options: core names the option and the fix.
  const knownAuthorities = flags["known-authority"] ?? [];
  const from = (variable: string): string => origin.get(variable) ?? variable;
  const authorityHost = (config.clientOptions.authorityHost ?? CLOUD_AUTHORITY_HOSTS.public).replace(/\/+$/, "");
  const credential = {
    secret: `client secret (${from(VARIABLES.clientSecret)})`,
    certificate: `certificate file ${variables[VARIABLES.certificatePath]} (${from(VARIABLES.certificatePath)})`,
    "federated-token-file": `federated token file ${variables[VARIABLES.federatedTokenFile]} (${from(VARIABLES.federatedTokenFile)})`,
  }[config.credentialKind];
  const description =
    `tenant ${config.clientOptions.tenantId} (${from(VARIABLES.tenantId)}), ` +
    `client ${config.clientOptions.clientId} (${from(VARIABLES.clientId)}), ${credential}, ` +
    `authority host ${authorityHost}${config.clientOptions.authorityHost === undefined ? " (default)" : ` (${from(VARIABLES.authorityHost)})`}` +
    (knownAuthorities.length === 0 ? "" : `, known authorities ${knownAuthorities.join(", ")} (--known-authority)`);
  const authorityForm: AuthorityForm =
    authority !== undefined
      ? authority.tenant === undefined
        ? "host"
        : "host-and-tenant"
      : config.clientOptions.authorityHost === undefined
        ? "default"
        : "environment";
  const clientOptions = knownAuthorities.length === 0 ? config.clientOptions : { ...config.clientOptions, knownAuthorities };
  return { clientOptions, credentialKind: config.credentialKind, authorityHost, authorityForm, description };
}

/** A secret flag's value: "-" reads stdin; a literal value works but earns a warning. */
async function secretFlag(flags: ConfigurationFlags, flag: "client-secret" | "password", variable: string, io: CliIo): Promise<string | undefined> {
  const value = flags[flag];
  if (value === undefined) return undefined;
  if (value === "-") {
    const secret = (await io.readStdin()).trim();
    if (secret === "") throw new UsageError(`--${flag} - read nothing from stdin: pipe the value in, e.g. \`--${flag} - < file\``);
    return secret;
  }
  io.err(
    `daemon-auth: warning: a secret given as --${flag} is visible to other users in \`ps\` and stays in shell history; ` +
      `set ${variable} or pass \`--${flag} -\` and pipe it on stdin.\n`,
  );
  return value;
}

/**
 * `--authority` as a bare sign-in host (like `AZURE_AUTHORITY_HOST`), or as MSAL reads
 * an authority: the host, then the tenant as the last path segment.
 */
function splitAuthority(authority: string): { host: string; tenant?: string } {
  if (!URL.canParse(authority)) return { host: authority };
  const url = new URL(authority);
  const segments = url.pathname.split("/").filter(Boolean);
  const last = segments.at(-1);
  if (last === undefined) return { host: authority };
  if (/^(v2\.0|oauth2|token)$/i.test(last)) {
    throw new UsageError(`--authority is the host, or the host and tenant (${url.origin}/<tenant>): drop '/${last}', the token endpoint path is added for you`);
  }
  const prefix = segments.slice(0, -1).join("/");
  return { host: prefix ? `${url.origin}/${prefix}` : url.origin, tenant: decodeURIComponent(last) };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

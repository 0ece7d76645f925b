import { readFileSync } from "node:fs";
import { ConfigurationError } from "@daemon-auth/core";
import { isGuid } from "@daemon-auth/core/protocol";
import { configurationFromEnvironment, type EnvironmentConfiguration } from "@daemon-auth/environment";

/** The resource every customer tenant is processed through: Microsoft Graph's users. */
export const GRAPH_SCOPE = "https://graph.microsoft.com/.default";

/** What the sample reads from the environment. */
export interface Settings {
  /** The app registration (`AZURE_*`, as `@azure/identity`'s EnvironmentCredential reads them). */
  readonly identity: EnvironmentConfiguration;
  /** `REDIS_URL`: the token cache and the tenant registry every worker shares. */
  readonly redisUrl: string;
  /** `TENANTS` (comma list) or `TENANTS_FILE` (one per line): the customer tenants, ids or verified domains. */
  readonly tenants: readonly string[];
  /** `GRAPH_URL`: the Graph endpoint, `https://graph.microsoft.com/v1.0` unless pointed at the emulator. */
  readonly graphUrl: string;
  /** `CONSENT_REDIRECT_URI`: registered on the app; `onboard` listens there for the admins' answers. */
  readonly redirectUri: string;
  /** `AZURE_AUTHORITY_HOST`, or the public cloud: where admins consent. */
  readonly authorityHost: string;
  /** `WORK_INTERVAL_MS`: pause between two rounds over the tenants. @default 60000 */
  readonly intervalMs: number;
  /** `WORK_ROUNDS`: rounds before a worker exits. @default until stopped (SIGTERM, SIGINT) */
  readonly rounds: number | undefined;
}

type Environment = Readonly<Record<string, string | undefined>>;

/** A verified domain: DNS labels ending in a top-level domain, such as fabrikam.onmicrosoft.com. */
const VERIFIED_DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function readTenants(env: Environment, problems: string[]): string[] {
  const file = env["TENANTS_FILE"]?.trim();
  let text = env["TENANTS"] ?? "";
  if (file) {
    try {
      text = readFileSync(file, "utf8").replace(/#.*$/gm, "");
    } catch (error) {
      problems.push(`TENANTS_FILE (${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}; check the path)`);
      return [];
    }
  }
  const tenants = [...new Set(text.split(/[\s,]+/).filter((entry) => entry !== ""))];
  if (tenants.length === 0) {
    problems.push("TENANTS (comma-separated customer tenant ids or verified domains) or TENANTS_FILE (one per line)");
  }
  const invalid = tenants.filter((tenant) => !(isGuid(tenant) || VERIFIED_DOMAIN.test(tenant)) || ["common", "organizations", "consumers"].includes(tenant.toLowerCase()));
  if (invalid.length > 0) problems.push(`TENANTS (${invalid.join(", ")} is neither a tenant GUID nor a verified domain such as fabrikam.onmicrosoft.com)`);
  return tenants;
}

function readUrl(env: Environment, name: string, fallback: string, problems: string[]): string {
  const value = env[name]?.trim() || fallback;
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value.replace(/\/+$/, "");
  } catch {
    // Reported below.
  }
  problems.push(`${name} (${JSON.stringify(value)} is not an absolute http(s) URL)`);
  return fallback;
}

/**
 * Reads the sample's configuration: the `AZURE_*` variables of the app registration
 * (through `@daemon-auth/environment`), `REDIS_URL`, the customer tenants and a few
 * sample settings with defaults.
 *
 * @throws {ConfigurationError} naming every missing or invalid variable.
 */
export function readSettings(env: Environment = process.env): Settings {
  const problems: string[] = [];
  let identity: EnvironmentConfiguration | undefined;
  try {
    identity = configurationFromEnvironment(env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    problems.push(error.message);
  }
  const redisUrl = env["REDIS_URL"]?.trim();
  if (!redisUrl) problems.push("REDIS_URL (the Redis every worker shares, e.g. redis://127.0.0.1:6379)");
  const tenants = readTenants(env, problems);
  const graphUrl = readUrl(env, "GRAPH_URL", "https://graph.microsoft.com/v1.0", problems);
  const redirectUri = readUrl(env, "CONSENT_REDIRECT_URI", "http://localhost:8400/consent", problems);
  const authorityHost = readUrl(env, "AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com", problems);
  const intervalText = env["WORK_INTERVAL_MS"]?.trim() || "60000";
  const intervalMs = Number(intervalText);
  if (!Number.isInteger(intervalMs) || intervalMs < 0) problems.push(`WORK_INTERVAL_MS (${JSON.stringify(intervalText)} is not a whole number of milliseconds)`);
  const roundsText = env["WORK_ROUNDS"]?.trim();
  const rounds = roundsText ? Number(roundsText) : undefined;
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) problems.push(`WORK_ROUNDS (${JSON.stringify(roundsText)} is not a positive whole number)`);
  if (problems.length > 0 || identity === undefined || !redisUrl) {
    throw new ConfigurationError(`Set or fix: ${problems.join("; ")}. Or run 'pnpm demo' for the offline demo.`);
  }
  return { identity, redisUrl, tenants, graphUrl, redirectUri, authorityHost, intervalMs, rounds };
}

/** For the commands: the settings, or the problem on stderr and exit code 2 (a usage error). */
export function readSettingsOrExit(env: Environment = process.env): Settings {
  try {
    return readSettings(env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}

// The daemon's configuration, read from environment variables and checked before any
// request: every problem is named at once, with what to set.
import { ConfigurationError, isGuid } from "@daemon-auth/core";

/** The environment the daemon reads (the process's, or one a test builds). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** What {@link settingsFrom} read. */
export interface Settings {
  /** The tenant the app's tokens are for: the customer's tenant that consented to the app. */
  readonly tenantId: string;
  /** The (multi-tenant) app registration. */
  readonly appClientId: string;
  /** A user-assigned identity's client id; `undefined` for the system-assigned identity. */
  readonly identityClientId: string | undefined;
  readonly authorityHost: string | undefined;
  /** How the app registration proves itself: neither way holds a secret. */
  readonly credential:
    | { readonly kind: "managed-identity" }
    | { readonly kind: "key-vault-certificate"; readonly vaultUrl: string; readonly certificateName: string };
  readonly apiScope: string;
  /** The API's base URL: the daemon calls `GET {apiUrl}/orders`. */
  readonly apiUrl: string;
  readonly intervalMs: number;
  /** 0: until stopped. */
  readonly runs: number;
}

const REQUIRED = {
  AZURE_TENANT_ID: "the tenant to get the app's tokens in (a customer tenant that consented to the app)",
  APP_CLIENT_ID: "the application (client) id of the app registration",
  API_SCOPE: "the API's <resource>/.default scope",
  API_URL: "the API's base URL",
} as const;

/**
 * Reads the daemon's settings from `env`.
 * @throws {ConfigurationError} naming every missing or malformed variable.
 */
export function settingsFrom(env: Environment): Settings {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const problems: string[] = [];
  for (const [name, meaning] of Object.entries(REQUIRED)) if (read(name) === undefined) problems.push(`${name} (${meaning})`);

  const appClientId = read("APP_CLIENT_ID");
  if (appClientId !== undefined && !isGuid(appClientId)) problems.push(`APP_CLIENT_ID as the app registration's client id, a GUID`);
  const identityClientId = read("MANAGED_IDENTITY_CLIENT_ID");
  if (identityClientId !== undefined && !isGuid(identityClientId)) {
    problems.push(`MANAGED_IDENTITY_CLIENT_ID as the user-assigned identity's client id, a GUID (or leave it out for the system-assigned identity)`);
  }
  const apiScope = read("API_SCOPE");
  if (apiScope !== undefined && !apiScope.endsWith("/.default")) problems.push(`API_SCOPE as the API's <resource>/.default, such as api://orders/.default; it is "${apiScope}"`);
  const apiUrl = read("API_URL");
  if (apiUrl !== undefined && !isHttpUrl(apiUrl)) problems.push(`API_URL as an absolute https URL (http only on loopback); it is "${apiUrl}"`);

  const vaultUrl = read("KEY_VAULT_URL");
  const certificateName = read("KEY_VAULT_CERTIFICATE_NAME");
  if ((vaultUrl === undefined) !== (certificateName === undefined)) {
    problems.push(`both KEY_VAULT_URL and KEY_VAULT_CERTIFICATE_NAME (a certificate whose key stays in Key Vault), or neither (the managed identity is the app's federated credential)`);
  }
  if (vaultUrl !== undefined && !(URL.canParse(vaultUrl) && new URL(vaultUrl).protocol === "https:")) {
    problems.push(`KEY_VAULT_URL as the vault's https URL, such as https://my-vault.vault.azure.net; it is "${vaultUrl}"`);
  }

  const intervalMs = Number(read("DAEMON_INTERVAL_MS") ?? 60_000);
  if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) problems.push(`DAEMON_INTERVAL_MS as milliseconds between calls, such as 60000`);
  const runs = Number(read("DAEMON_RUNS") ?? 0);
  if (!(Number.isInteger(runs) && runs >= 0)) problems.push(`DAEMON_RUNS as the number of calls to make, or 0 to run until stopped`);
  if (problems.length > 0) throw new ConfigurationError(`Set ${problems.join("; ")}.`);

  return {
    tenantId: read("AZURE_TENANT_ID") as string,
    appClientId: appClientId as string,
    identityClientId,
    authorityHost: read("AZURE_AUTHORITY_HOST"),
    credential:
      vaultUrl !== undefined && certificateName !== undefined
        ? { kind: "key-vault-certificate", vaultUrl, certificateName }
        : { kind: "managed-identity" },
    apiScope: apiScope as string,
    apiUrl: (apiUrl as string).replace(/\/+$/, ""),
    intervalMs,
    runs,
  };
}

/** True for the hosts where plain HTTP cannot leave the machine (the emulator). */
export function isLoopback(url: URL): boolean {
  return ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url));
}

// Option checks shared by every Key Vault credential: each throws core's
// ConfigurationError naming the factory and saying what to pass instead.
import { ConfigurationError, systemClock, type Clock } from "@daemon-auth/core";

/** Anything with `getToken`: an Azure SDK `TokenCredential`. */
interface TokenCredentialLike {
  getToken(...args: never[]): unknown;
}

const DEFAULT_POLL_INTERVAL_MS = 300_000;
const NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** A Key Vault object name (secret, certificate): 1 to 127 letters, digits and dashes. */
export function checkVaultName(factory: string, option: string, value: unknown): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw new ConfigurationError(`${factory}: ${option} must be a Key Vault name (1 to 127 letters, digits and dashes); got ${typeof value === "string" ? `"${value}"` : typeof value}.`);
  }
  return value;
}

/** A pinned version, or undefined to follow the latest one. */
export function checkVersion(factory: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== "string" || value.trim() === "")) {
    throw new ConfigurationError(`${factory}: version must be a version id (32 hex characters), or left out to follow the latest version.`);
  }
  return value;
}

/** `pollIntervalMs` (default 5 minutes) and `clock` (default the system clock). */
export function checkPolling(factory: string, options: { readonly pollIntervalMs?: unknown; readonly clock?: unknown }): { pollIntervalMs: number; clock: Clock } {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (typeof pollIntervalMs !== "number" || !Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) {
    throw new ConfigurationError(`${factory}: pollIntervalMs must be a positive number of milliseconds, for example 300000 (5 minutes).`);
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock !== "object" || clock === null || typeof (clock as Partial<Clock>).now !== "function") {
    throw new ConfigurationError(`${factory}: clock must be an object with a now() method returning milliseconds since the epoch.`);
  }
  return { pollIntervalMs, clock: clock as Clock };
}

/** The vault's https URL and a `TokenCredential` for it. */
export function checkVault(factory: string, vaultUrl: unknown, credential: unknown, alternative: string): string {
  if (typeof vaultUrl !== "string" || !/^https:\/\/[^/]+/i.test(vaultUrl)) {
    throw new ConfigurationError(`${factory}: vaultUrl must be the vault's https URL, e.g. "https://my-vault.vault.azure.net"${alternative}.`);
  }
  if (typeof credential !== "object" || credential === null || typeof (credential as Partial<TokenCredentialLike>).getToken !== "function") {
    throw new ConfigurationError(`${factory}: with vaultUrl, pass credential: a TokenCredential (e.g. new ManagedIdentityCredential() from @azure/identity, or toTokenCredential(client) from @daemon-auth/azure) that may use the vault.`);
  }
  return vaultUrl;
}

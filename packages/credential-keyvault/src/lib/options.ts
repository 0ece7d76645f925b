// Option checks shared by every Key Vault credential, in core's one option dialect
// (`<factory>: '<option>' must be …`): each throws core's ConfigurationError saying what
// to pass instead.
import { systemClock, type Clock } from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";

/** Anything with `getToken`: an Azure SDK `TokenCredential`. */
interface TokenCredentialLike {
  getToken(...args: never[]): unknown;
}

const DEFAULT_POLL_INTERVAL_MS = 300_000;
const NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** A Key Vault object name (secret, certificate): 1 to 127 letters, digits and dashes. */
export function checkVaultName(factory: string, option: string, value: unknown): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw optionChecks(factory).error(
      `'${option}' must be a Key Vault name (1 to 127 letters, digits and dashes); got ${typeof value === "string" ? `"${value}"` : typeof value}.`,
    );
  }
  return value;
}

/** A pinned version, or undefined to follow the latest one. */
export function checkVersion(factory: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== "string" || value.trim() === "")) {
    throw optionChecks(factory).error("'version' must be a version id (32 hex characters), or left out to follow the latest version.");
  }
  return value;
}

/** `pollIntervalMs` (default 5 minutes) and `clock` (default the system clock). */
export function checkPolling(factory: string, options: { readonly pollIntervalMs?: unknown; readonly clock?: unknown }): { pollIntervalMs: number; clock: Clock } {
  const check = optionChecks(factory);
  return {
    pollIntervalMs: check.milliseconds("pollIntervalMs", options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS, { example: "300000 (5 minutes)" }),
    clock: check.clock("clock", options.clock, systemClock),
  };
}

/** The vault's https URL and a `TokenCredential` for it. */
export function checkVault(factory: string, vaultUrl: unknown, credential: unknown, alternative: string): string {
  const check = optionChecks(factory);
  if (typeof vaultUrl !== "string" || !/^https:\/\/[^/]+/i.test(vaultUrl)) {
    throw check.error(`'vaultUrl' must be the vault's https URL, e.g. "https://my-vault.vault.azure.net"${alternative}.`);
  }
  if (typeof credential !== "object" || credential === null || typeof (credential as Partial<TokenCredentialLike>).getToken !== "function") {
    throw check.error(
      "with 'vaultUrl', pass 'credential': a TokenCredential (e.g. new ManagedIdentityCredential() from @azure/identity, or toTokenCredential(client) from @daemon-auth/azure) that may use the vault.",
    );
  }
  return vaultUrl;
}

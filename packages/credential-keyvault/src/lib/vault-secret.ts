// Reads one Key Vault secret — a pinned version, or the latest enabled one —
// and keeps it, checking for a newer version at most every pollIntervalMs on
// use (no timer, so nothing keeps the process alive) and on demand (reload).
import { CredentialError, type Clock } from "@daemon-auth/core";
import type { KeyVaultSecret, SecretClient } from "@azure/keyvault-secrets";
import { reasonOf, VaultObjectSource } from "./polled-version.js";

/** The `SecretClient` methods the credentials call; a real `SecretClient` fits. */
export type KeyVaultSecretReader = Pick<SecretClient, "getSecret" | "listPropertiesOfSecretVersions">;

/** One version of the secret, as read. */
export interface VaultSecretVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType: string | undefined;
}

export interface VaultSecretSourceOptions {
  readonly client: KeyVaultSecretReader;
  /** For messages: the vault URL, or "the given SecretClient". */
  readonly vaultLabel: string;
  readonly secretName: string;
  readonly version: string | undefined;
  readonly pollIntervalMs: number;
  readonly clock: Clock;
}

/** The latest version, shared by concurrent callers, re-checked on a schedule. */
export class VaultSecretSource extends VaultObjectSource<VaultSecretVersion> {
  constructor(private readonly options: VaultSecretSourceOptions) {
    super({ kind: "secret", vaultLabel: options.vaultLabel, name: options.secretName, version: options.version, pollIntervalMs: options.pollIntervalMs, clock: options.clock });
  }

  protected async fetch(): Promise<VaultSecretVersion> {
    const { client, secretName, version } = this.options;
    let secret: KeyVaultSecret;
    try {
      if (version !== undefined) {
        secret = await client.getSecret(secretName, { version });
      } else {
        try {
          secret = await client.getSecret(secretName);
        } catch (error) {
          // The newest version is disabled (403): fall back to the newest enabled one.
          if (!isDisabled(error)) throw error;
          secret = await client.getSecret(secretName, { version: await this.latestEnabledVersion() });
        }
      }
    } catch (error) {
      if (error instanceof CredentialError) throw error;
      throw new CredentialError(
        `Could not read ${this.describe()}: ${reasonOf(error)}. Check the vault URL, the secret name and that the identity may read secrets (Key Vault Secrets User); the cause has the details.`,
        { cause: error },
      );
    }
    const value = secret.value;
    if (typeof value !== "string" || value === "") {
      throw new CredentialError(`${this.describe()} has an empty value. Store the client secret or the certificate as the secret's value.`, {
        cause: new TypeError("The Key Vault secret has no value."),
      });
    }
    return { version: secret.properties.version ?? "", value, contentType: secret.properties.contentType };
  }

  private async latestEnabledVersion(): Promise<string> {
    const now = this.options.clock.now();
    let best: { version: string; created: number } | undefined;
    for await (const properties of this.options.client.listPropertiesOfSecretVersions(this.options.secretName)) {
      if (properties.enabled === false || properties.version === undefined) continue;
      if (properties.expiresOn !== undefined && properties.expiresOn.getTime() <= now) continue;
      if (properties.notBefore !== undefined && properties.notBefore.getTime() > now) continue;
      const created = properties.createdOn?.getTime() ?? 0;
      if (best === undefined || created >= best.created) best = { version: properties.version, created };
    }
    if (best === undefined) {
      throw new CredentialError(`${this.describe()} has no enabled version. Enable a version or set a new one.`, {
        cause: new Error("Every version of the secret is disabled or expired."),
      });
    }
    return best.version;
  }

}

function isDisabled(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  return statusCode === 403 && (code === "Forbidden" || code === "SecretDisabled");
}

// Reads one Key Vault secret — a pinned version, or the latest enabled one —
// and keeps it, checking for a newer version at most every pollIntervalMs on
// use (no timer, so nothing keeps the process alive) and on demand (reload).
import { CredentialError, type Clock } from "@daemon-auth/core";
import type { KeyVaultSecret, SecretClient } from "@azure/keyvault-secrets";

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
export class VaultSecretSource {
  private current: { readonly secret: VaultSecretVersion; checkedAt: number } | undefined;
  private inflight: Promise<VaultSecretVersion> | undefined;
  // Bumped by reload() and dispose(): a read that started before must not
  // repopulate what the caller asked to drop.
  private generation = 0;
  /** How many times the secret was read from the vault. */
  reads = 0;

  constructor(private readonly options: VaultSecretSourceOptions) {}

  /** `vault <url>, secret <name>[ version <v>]`: names the secret, never its value. */
  get label(): string {
    const version = this.current?.secret.version ?? this.options.version;
    return `Key Vault ${this.options.vaultLabel}, secret "${this.options.secretName}"${version === undefined ? "" : ` (version ${version})`}`;
  }

  /** The secret to use now: the kept one, or a fresh read when none is kept or the poll is due. */
  async get(): Promise<VaultSecretVersion> {
    const current = this.current;
    if (current === undefined) return this.read();
    if (this.options.version !== undefined) return current.secret;
    if (this.options.clock.now() - current.checkedAt < this.options.pollIntervalMs) return current.secret;
    try {
      return await this.read();
    } catch {
      // The kept version still works until the server says otherwise; a vault
      // outage must not break token acquisition. Wait a full interval to retry.
      current.checkedAt = this.options.clock.now();
      return current.secret;
    }
  }

  /** Drops the kept version: the next get() reads the vault. */
  forget(): void {
    this.generation++;
    this.current = undefined;
    this.inflight = undefined;
  }

  private read(): Promise<VaultSecretVersion> {
    if (this.inflight !== undefined) return this.inflight;
    const started = this.generation;
    const reading = this.fetch().then((secret) => {
      if (this.generation === started) this.current = { secret, checkedAt: this.options.clock.now() };
      return secret;
    });
    const settled = (): void => {
      if (this.inflight === reading) this.inflight = undefined;
    };
    reading.then(settled, settled);
    this.inflight = reading;
    return reading;
  }

  private async fetch(): Promise<VaultSecretVersion> {
    const { client, secretName, version } = this.options;
    this.reads++;
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

  private describe(): string {
    const version = this.options.version;
    return `secret "${this.options.secretName}"${version === undefined ? "" : ` (version ${version})`} in Key Vault ${this.options.vaultLabel}`;
  }
}

function isDisabled(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  return statusCode === 403 && (code === "Forbidden" || code === "SecretDisabled");
}

function reasonOf(error: unknown): string {
  if (typeof error !== "object" || error === null) return "unknown error";
  const { statusCode, code, name } = error as { statusCode?: unknown; code?: unknown; name?: unknown };
  const parts = [typeof statusCode === "number" ? `HTTP ${statusCode}` : undefined, typeof code === "string" ? code : undefined].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join(" ") : typeof name === "string" ? name : "unknown error";
}

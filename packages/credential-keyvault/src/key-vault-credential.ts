import { SecretClient, type SecretClientOptions } from "@azure/keyvault-secrets";
import {
  CredentialError,
  raceAbort,
  redacted,
  throwIfAborted,
  type ClientAssertionAuthentication,
  type ClientCredential,
  type ClientSecretAuthentication,
  type Clock,
  type CredentialContext,
} from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import { certificateCredential } from "@daemon-auth/credential-certificate";
import { VersionedDelegate } from "./lib/delegate.js";
import { checkPolling, checkVault, checkVaultName, checkVersion } from "./lib/options.js";
import { VaultSecretSource, type KeyVaultSecretReader, type VaultSecretVersion } from "./lib/vault-secret.js";

/** An Azure SDK token credential (`@azure/identity`), for the vault. */
export type VaultTokenCredential = ConstructorParameters<typeof SecretClient>[1];

export type { KeyVaultSecretReader };

/** Options shared by {@link keyVaultSecretCredential} and {@link keyVaultCertificateCredential}. */
export interface KeyVaultCredentialOptions {
  /** The vault, e.g. `https://my-vault.vault.azure.net`; needs `credential`. Give this or `secretClient`. */
  readonly vaultUrl?: string | undefined;
  /** A ready `SecretClient` (or anything with its `getSecret` and `listPropertiesOfSecretVersions`). */
  readonly secretClient?: KeyVaultSecretReader | undefined;
  /** The secret's name (for a certificate: the certificate's name, which names its secret too). */
  readonly secretName: string;
  /**
   * A version to use as is, never polled.
   * @default undefined — the latest enabled version, polled
   */
  readonly version?: string | undefined;
  /** How the `SecretClient` built from `vaultUrl` authenticates, e.g. a `ManagedIdentityCredential`. */
  readonly credential?: VaultTokenCredential | undefined;
  /** Options of the `SecretClient` built from `vaultUrl` (retries, `disableChallengeResourceVerification`, policies). */
  readonly secretClientOptions?: SecretClientOptions | undefined;
  /**
   * How often to look for a newer version, in milliseconds: checked on use, no timer.
   * @default 300000 (5 minutes)
   */
  readonly pollIntervalMs?: number | undefined;
  /**
   * The time source for `pollIntervalMs`; inject one in tests.
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
}

/** Options of {@link keyVaultCertificateCredential}. */
export interface KeyVaultCertificateCredentialOptions extends KeyVaultCredentialOptions {
  /**
   * The PFX password, for a certificate imported with one (those Key Vault creates have none).
   * @default undefined
   */
  readonly password?: string | undefined;
}

interface Settings {
  readonly source: VaultSecretSource;
}

function settingsOf(factory: string, options: KeyVaultCredentialOptions): Settings {
  const check = optionChecks(factory);
  if (typeof options !== "object" || options === null) {
    throw check.error("pass options such as { vaultUrl, secretName, credential }.");
  }
  const { vaultUrl, secretClient, credential } = options;
  const secretName = checkVaultName(factory, "secretName", options.secretName);
  const version = checkVersion(factory, options.version);
  const { pollIntervalMs, clock } = checkPolling(factory, options);
  let client: KeyVaultSecretReader;
  let vaultLabel: string;
  if (secretClient !== undefined) {
    if (vaultUrl !== undefined || credential !== undefined || options.secretClientOptions !== undefined) {
      throw check.error("give either 'secretClient', or 'vaultUrl' with 'credential' (and 'secretClientOptions'), not both.");
    }
    if (typeof secretClient.getSecret !== "function" || typeof secretClient.listPropertiesOfSecretVersions !== "function") {
      throw check.error("'secretClient' must be a SecretClient from @azure/keyvault-secrets.");
    }
    client = secretClient;
    vaultLabel = "vaultUrl" in secretClient && typeof secretClient.vaultUrl === "string" ? secretClient.vaultUrl : "(given SecretClient)";
  } else {
    vaultLabel = checkVault(factory, vaultUrl, credential, " (or pass 'secretClient')");
    client = new SecretClient(vaultLabel, credential as VaultTokenCredential, options.secretClientOptions);
  }
  return { source: new VaultSecretSource({ client, vaultLabel, secretName, version, pollIntervalMs, clock }) };
}

/**
 * A client secret kept in Azure Key Vault. It is read on first use (concurrent first
 * uses share one read), then the vault is checked for a newer version at most every
 * `pollIntervalMs`, on use, and on `reload()` — which core calls when the server
 * rejects the secret — so a rotated secret is picked up. A pinned `version` is used as
 * is. If the vault cannot be reached when polling, the secret already read is kept.
 *
 * @throws {ConfigurationError} when the options are inconsistent.
 *
 * @example
 * keyVaultSecretCredential({ vaultUrl: "https://my-vault.vault.azure.net", secretName: "daemon-secret", credential: new ManagedIdentityCredential() });
 *
 * @see https://learn.microsoft.com/azure/key-vault/secrets/about-secrets
 */
export function keyVaultSecretCredential(options: KeyVaultCredentialOptions): ClientCredential {
  const { source } = settingsOf("keyVaultSecretCredential", options);
  const activity = "Reading the client secret from Key Vault";
  const credential: ClientCredential = {
    kind: "secret",
    get description() {
      return `client secret (${source.label})`;
    },
    async getAuthentication(context: CredentialContext): Promise<ClientSecretAuthentication> {
      throwIfAborted(context.signal, activity);
      const secret = await raceAbort(source.get(), context.signal, activity);
      redacted(credential, credential.description ?? "client secret (Key Vault)");
      return redacted({ clientSecret: secret.value }, "{ clientSecret: [redacted] }");
    },
    async reload(): Promise<void> {
      source.forget();
    },
    async dispose(): Promise<void> {
      source.forget();
    },
  };
  return redacted(credential, credential.description ?? "client secret (Key Vault)");
}

/**
 * A certificate kept in Azure Key Vault, read through its secret (the PFX as base64,
 * `application/x-pkcs12`, or PEM, `application/x-pem-file`) and turned into signed client
 * assertions by `certificateCredential` from `@daemon-auth/credential-certificate`. The
 * identity needs to read secrets, not only certificates. Versions are followed as in
 * {@link keyVaultSecretCredential}.
 *
 * @throws {ConfigurationError} when the options are inconsistent.
 *
 * @example
 * keyVaultCertificateCredential({ vaultUrl: "https://my-vault.vault.azure.net", secretName: "daemon-cert", credential: new ManagedIdentityCredential() });
 *
 * @see https://learn.microsoft.com/azure/key-vault/certificates/about-certificates#composition-of-a-certificate
 */
export function keyVaultCertificateCredential(options: KeyVaultCertificateCredentialOptions): ClientCredential {
  const { source } = settingsOf("keyVaultCertificateCredential", options);
  const password = options.password;
  if (password !== undefined && typeof password !== "string") {
    throw optionChecks("keyVaultCertificateCredential").error("'password' must be a string.");
  }
  const activity = "Reading the certificate from Key Vault";
  const delegates = new VersionedDelegate<VaultSecretVersion>(
    (a, b) => a.version === b.version && a.value === b.value,
    (secret) => {
      try {
        return certificateCredential({ ...materialOf(secret), ...(password === undefined ? {} : { password }) });
      } catch (error) {
        throw new CredentialError(
          `The certificate in ${source.label} could not be used: ${error instanceof Error ? error.message : "unreadable material"} Store it as a PFX (base64, contentType application/x-pkcs12) or PEM with its private key (application/x-pem-file); for a certificate whose key is not exportable, use keyVaultCertificateSigner.`,
          { cause: error },
        );
      }
    },
    () => redacted(credential, credential.description ?? "certificate (Key Vault)"),
  );

  const credential: ClientCredential = {
    kind: "certificate",
    get description() {
      return `certificate (${source.label})`;
    },
    async getAuthentication(context: CredentialContext): Promise<ClientAssertionAuthentication> {
      throwIfAborted(context.signal, activity);
      const secret = await raceAbort(source.get(), context.signal, activity);
      return delegates.for(secret).getAuthentication(context);
    },
    async reload(): Promise<void> {
      source.forget();
    },
    async dispose(): Promise<void> {
      source.forget();
      await delegates.dispose();
    },
  };
  return redacted(credential, credential.description ?? "certificate (Key Vault)");
}

function materialOf(secret: VaultSecretVersion): { pfx: Uint8Array } | { pem: string } {
  const type = secret.contentType?.toLowerCase();
  if (type === "application/x-pem-file" || (type === undefined && secret.value.trimStart().startsWith("-----BEGIN"))) return { pem: secret.value };
  return { pfx: Buffer.from(secret.value, "base64") };
}

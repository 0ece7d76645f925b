import { CertificateClient, type CertificateClientOptions } from "@azure/keyvault-certificates";
import { CryptographyClient } from "@azure/keyvault-keys";
import {
  CredentialError,
  raceAbort,
  redacted,
  throwIfAborted,
  type ClientAssertionAuthentication,
  type ClientCredential,
  type Clock,
  type CredentialContext,
} from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import { certificateCredential, type CertificateCredential } from "@daemon-auth/credential-certificate";
import type { VaultTokenCredential } from "./key-vault-credential.js";
import { VersionedDelegate } from "./lib/delegate.js";
import { checkPolling, checkVault, checkVaultName, checkVersion } from "./lib/options.js";
import { reasonOf } from "./lib/polled-version.js";
import { VaultCertificateSource, type VaultCertificateVersion } from "./lib/vault-certificate.js";

/** Options of the Key Vault clients {@link keyVaultCertificateSigner} builds (pipeline policies, retries, `disableChallengeResourceVerification`). */
export type KeyVaultClientOptions = Omit<CertificateClientOptions, "serviceVersion">;

/** Options of {@link keyVaultCertificateSigner}. */
export interface KeyVaultCertificateSignerOptions {
  /** The vault, e.g. `https://my-vault.vault.azure.net`. */
  readonly vaultUrl: string;
  /** The Key Vault certificate's name; its key (same name and version) signs. */
  readonly certificateName: string;
  /**
   * How the vault clients authenticate: any Azure `TokenCredential`, e.g. a
   * `ManagedIdentityCredential`, or `toTokenCredential(client)` from `@daemon-auth/azure`.
   * It needs to read certificates and sign with keys (roles Key Vault Certificate User and
   * Key Vault Crypto User), never to read secrets.
   */
  readonly credential: VaultTokenCredential;
  /**
   * The JWS algorithm; Key Vault signs either.
   * @default "PS256" for Entra ID authorities, "RS256" for generic servers
   */
  readonly algorithm?: "PS256" | "RS256" | undefined;
  /**
   * Add the `x5c` header (the certificate) for subject name + issuer (SNI) authentication.
   * @default false
   */
  readonly sendCertificateChain?: boolean | undefined;
  /**
   * A certificate version to use as is, never polled.
   * @default undefined — the latest version, polled
   */
  readonly version?: string | undefined;
  /**
   * How often to look for a newer certificate version, in milliseconds: checked on use, no timer.
   * @default 300000 (5 minutes)
   */
  readonly pollIntervalMs?: number | undefined;
  /** Options of the `CertificateClient` and `CryptographyClient` built for the vault. */
  readonly clientOptions?: KeyVaultClientOptions | undefined;
  /**
   * The time source for polling and assertion claims; inject one in tests.
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
}

const FACTORY = "keyVaultCertificateSigner";

// A refusal from the vault's sign operation, told apart from other signer failures
// so that its own advice reaches the caller rather than certificateCredential's generic one.
class VaultSignError extends CredentialError {}

function checkOptions(options: KeyVaultCertificateSignerOptions): void {
  if (typeof options !== "object" || options === null) {
    throw optionChecks(FACTORY).error("pass options such as { vaultUrl, certificateName, credential }.");
  }
  if (options.algorithm !== undefined && options.algorithm !== "PS256" && options.algorithm !== "RS256") {
    throw optionChecks(FACTORY).error(`'algorithm' must be "PS256" or "RS256" (Key Vault signs RSA keys), not ${JSON.stringify(options.algorithm)}.`);
  }
  if (options.sendCertificateChain !== undefined && typeof options.sendCertificateChain !== "boolean") {
    throw optionChecks(FACTORY).error("'sendCertificateChain' must be true or false.");
  }
}

/**
 * A certificate credential whose private key never enters the process: the certificate
 * stays in Azure Key Vault, created there with a non-exportable key. The credential reads
 * the certificate's public part with `CertificateClient` (for `x5t#S256`, and `x5c` with
 * `sendCertificateChain`), builds each client assertion with `certificateCredential` from
 * `@daemon-auth/credential-certificate`, and has Key Vault sign it (`CryptographyClient`,
 * PS256 or RS256). Signed assertions are reused per token endpoint as with a local key.
 *
 * Rotation: the latest version is checked at most every `pollIntervalMs` on use, and on
 * `reload()` — which core calls when the server rejects the certificate (AADSTS700027) —
 * so a new version in the vault is used once the app registration trusts it.
 *
 * @throws {ConfigurationError} when the options are inconsistent.
 *
 * @example
 * keyVaultCertificateSigner({ vaultUrl: "https://my-vault.vault.azure.net", certificateName: "orders-daemon", credential: new ManagedIdentityCredential() });
 *
 * @see https://learn.microsoft.com/azure/key-vault/keys/about-keys-details#key-operations
 */
export function keyVaultCertificateSigner(options: KeyVaultCertificateSignerOptions): ClientCredential {
  checkOptions(options);
  const certificateName = checkVaultName(FACTORY, "certificateName", options.certificateName);
  const version = checkVersion(FACTORY, options.version);
  const { pollIntervalMs, clock } = checkPolling(FACTORY, options);
  const vaultUrl = checkVault(FACTORY, options.vaultUrl, options.credential, "");
  const { credential: tokenCredential, clientOptions } = options;
  const client = new CertificateClient(vaultUrl, tokenCredential, clientOptions);
  const source = new VaultCertificateSource(client, { vaultLabel: vaultUrl, name: certificateName, version, pollIntervalMs, clock });
  const activity = "Signing the client assertion with Key Vault";

  const signerFor = (certificate: VaultCertificateVersion): CertificateCredential => {
    const keys = new CryptographyClient(certificate.keyId, tokenCredential, clientOptions);
    const sign = async (input: Uint8Array, algorithm: "PS256" | "RS256"): Promise<Uint8Array> => {
      try {
        return (await keys.signData(algorithm, input)).result;
      } catch (error) {
        throw new VaultSignError(
          `Key Vault ${vaultUrl} did not sign with the key of certificate "${certificateName}" (version ${certificate.version}): ${reasonOf(error)}. ${adviceFor(error)}`,
          { cause: error },
        );
      }
    };
    return certificateCredential({
      signer: { certificate: certificate.certificatePem, sign },
      ...(options.algorithm === undefined ? {} : { algorithm: options.algorithm }),
      ...(options.sendCertificateChain === undefined ? {} : { sendCertificateChain: options.sendCertificateChain }),
      clock,
    });
  };
  const delegates = new VersionedDelegate<VaultCertificateVersion>((a, b) => a.version === b.version, signerFor, () => redacted(credential, describe()));
  const describe = (): string => `certificate (${source.label}, key in Key Vault)`;

  const authenticate = async (context: CredentialContext): Promise<ClientAssertionAuthentication> => {
    const certificate = await source.get();
    try {
      return await delegates.for(certificate).getAuthentication(context);
    } catch (error) {
      // certificateCredential wraps a signer failure in generic advice; the vault's is more precise.
      if (error instanceof CredentialError && error.cause instanceof VaultSignError) throw error.cause;
      throw error;
    }
  };

  const credential: ClientCredential = {
    kind: "certificate",
    get description() {
      return describe();
    },
    async getAuthentication(context: CredentialContext): Promise<ClientAssertionAuthentication> {
      throwIfAborted(context.signal, activity);
      return raceAbort(authenticate(context), context.signal, activity);
    },
    async reload(): Promise<void> {
      source.forget();
    },
    async dispose(): Promise<void> {
      source.forget();
      await delegates.dispose();
    },
  };
  return redacted(credential, describe());
}

function adviceFor(error: unknown): string {
  const status = typeof error === "object" && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  if (status === 403) return "Give the identity the sign permission on the vault's keys (role Key Vault Crypto User, or the \"sign\" key permission of an access policy).";
  if (status === 404) return "The certificate's key is gone: check that the certificate version still exists and was not deleted.";
  if (status === 401) return "The vault rejected the credential's token: check the credential and the vault's tenant.";
  return "Check the vault's availability and the identity's access to its keys; the cause has the details.";
}

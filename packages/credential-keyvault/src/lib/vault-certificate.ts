// Reads the public part of one Key Vault certificate — a pinned version or the
// latest — through CertificateClient: the certificate (for x5t#S256 and x5c)
// and the id of the vault key that signs for it. The private key is never read.
import { X509Certificate } from "node:crypto";
import type { CertificateClient, KeyVaultCertificate } from "@azure/keyvault-certificates";
import { CredentialError } from "@daemon-auth/core";
import { reasonOf, VaultObjectSource, type VaultObjectReference } from "./polled-version.js";

/** One certificate version, as read: public parts only. */
export interface VaultCertificateVersion {
  readonly version: string;
  /** The certificate, PEM. */
  readonly certificatePem: string;
  /** The versioned id of the vault key of this certificate version. */
  readonly keyId: string;
}

/** The `CertificateClient` methods the source calls. */
export type VaultCertificateReader = Pick<CertificateClient, "getCertificate" | "getCertificateVersion">;

/** The certificate version to sign with, shared and re-checked on a schedule. */
export class VaultCertificateSource extends VaultObjectSource<VaultCertificateVersion> {
  constructor(
    private readonly client: VaultCertificateReader,
    reference: Omit<VaultObjectReference, "kind">,
  ) {
    super({ ...reference, kind: "certificate" });
  }

  protected async fetch(): Promise<VaultCertificateVersion> {
    const { client } = this;
    const { name: certificateName, version } = this.reference;
    let certificate: KeyVaultCertificate;
    try {
      certificate = version === undefined ? await client.getCertificate(certificateName) : await client.getCertificateVersion(certificateName, version);
    } catch (error) {
      throw new CredentialError(
        `Could not read ${this.describe()}: ${reasonOf(error)}. Check the vault URL, the certificate name and that the identity may read certificates (role Key Vault Certificate User, or the "get" certificate permission); the cause has the details.`,
        { cause: error },
      );
    }
    const { cer, keyId } = certificate;
    const read = certificate.properties.version;
    if (cer === undefined || cer.byteLength === 0 || read === undefined) {
      throw new CredentialError(`${this.describe()} has no issued certificate yet (a pending or failed creation?). Complete the certificate operation in the vault, or pin a version that has one.`);
    }
    if (keyId === undefined || keyId === "") {
      throw new CredentialError(`${this.describe()} has no key in the vault to sign with. Create the certificate in Key Vault (or import it with its key) so that Key Vault holds its key.`);
    }
    let certificatePem: string;
    try {
      certificatePem = new X509Certificate(Buffer.from(cer)).toString();
    } catch (error) {
      throw new CredentialError(`${this.describe()} holds no readable X.509 certificate (cer).`, { cause: error });
    }
    return { version: read, certificatePem, keyId };
  }
}

export {
  keyVaultCertificateCredential,
  keyVaultSecretCredential,
  type KeyVaultCertificateCredentialOptions,
  type KeyVaultCredentialOptions,
  type KeyVaultSecretReader,
  type VaultTokenCredential,
} from "./key-vault-credential.js";
export { keyVaultCertificateSigner, type KeyVaultCertificateSignerOptions, type KeyVaultClientOptions } from "./key-vault-signer.js";

export {
  keyVaultCertificateCredential,
  keyVaultSecretCredential,
  type KeyVaultCertificateCredentialOptions,
  type KeyVaultCredentialOptions,
  type KeyVaultSecretReader,
  type VaultTokenCredential,
} from "./key-vault-credential.js";

export { startEmulator } from "./emulator.js";
export { answerAdminConsent, type AdminConsentOutcome } from "./answer-admin-consent.js";
export type { Emulator } from "./emulator.js";
export type { EmulatorOptions } from "./emulator-options.js";
export type { TokenRequestFilter } from "./server/recording.js";
export type { RecordedRequest } from "./server/request.js";
export type { Fault, FaultHandle, FaultKind, FaultMatch, FaultRule, Faults, LoopDetectionOptions } from "./lib/faults/types.js";
export { GRAPH_RESOURCE, GRAPH_USERS_ROLE } from "./routes/graph.js";
export type { GraphOptions, GraphUser } from "./routes/graph.js";
export { KEY_VAULT_RESOURCE } from "./routes/key-vault.js";
export type { CreateVaultCertificateOptions, KeyVaultOptions, KeyVaultSecretConfig, SetVaultSecretOptions, VaultCertificateInfo, VaultKeyPermission } from "./routes/key-vault.js";
export { EmulatorConfigError } from "./config/error.js";
export { loadEmulatorConfig, validateEmulatorConfigShape } from "./config/load.js";
export { DEFAULT_FEDERATED_AUDIENCE } from "./config/types.js";
export type { ExternalTokenOptions } from "./lib/external-issuer.js";
export type { ManagedIdentitySource } from "./routes/managed-identity.js";
export type {
  AppRoleConfig,
  ApplicationConfig,
  CertificateConfig,
  EmulatorConfig,
  FederatedCredentialConfig,
  GrantConfig,
  ManagedIdentityConfig,
  RequiredResourceAccessConfig,
  SecretConfig,
  TenantConfig,
  TrustedCertificateSubjectConfig,
} from "./config/types.js";
export { demoEmulatorConfig, demoEmulatorIdentities } from "./demo-config.js";
export { certificateThumbprints, createSelfSignedCertificate, issueCertificate } from "./certificate.js";
export type { CertificateThumbprints, GeneratedCertificate, SelfSignedCertificateOptions } from "./certificate.js";
export { AADSTS_CODES } from "./aadsts.js";
export type { CodeInfo, EntraErrorBody } from "./aadsts.js";
export { EmulatorUsageError, runEmulatorCli, type EmulatorCliOptions } from "./run-emulator-cli.js";

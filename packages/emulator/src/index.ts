export { startEmulator } from "./emulator.js";
export { answerAdminConsent, type AdminConsentOutcome } from "./answer-admin-consent.js";
export type { Emulator, EmulatorOptions, RecordedRequest, TokenRequestFilter } from "./emulator.js";
export type { Fault, FaultHandle, FaultKind, FaultMatch, FaultRule, Faults, LoopDetectionOptions } from "./lib/faults.js";
export { GRAPH_RESOURCE, GRAPH_USERS_ROLE } from "./lib/graph.js";
export type { GraphOptions, GraphUser } from "./lib/graph.js";
export { KEY_VAULT_RESOURCE } from "./lib/key-vault.js";
export type { KeyVaultOptions, KeyVaultSecretConfig, SetVaultSecretOptions } from "./lib/key-vault.js";
export { DEFAULT_FEDERATED_AUDIENCE, EmulatorConfigError, loadEmulatorConfig, validateEmulatorConfigShape } from "./config.js";
export type { ExternalTokenOptions } from "./lib/external-issuer.js";
export type {
  AppRoleConfig,
  ApplicationConfig,
  CertificateConfig,
  EmulatorConfig,
  FederatedCredentialConfig,
  GrantConfig,
  RequiredResourceAccessConfig,
  SecretConfig,
  TenantConfig,
} from "./config.js";
export { demoEmulatorConfig, demoEmulatorIdentities } from "./demo-config.js";
export { certificateThumbprints, createSelfSignedCertificate } from "./certificate.js";
export type { CertificateThumbprints, GeneratedCertificate, SelfSignedCertificateOptions } from "./certificate.js";
export { AADSTS_CODES } from "./aadsts.js";
export type { EntraErrorBody } from "./aadsts.js";
export { EmulatorUsageError, runEmulatorCli, type EmulatorCliOptions } from "./emulator-cli.js";

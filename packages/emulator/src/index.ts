export { startEmulator } from "./emulator.js";
export type { Emulator, EmulatorOptions, RecordedRequest, TokenRequestFilter } from "./emulator.js";
export { EmulatorConfigError, loadEmulatorConfig, validateEmulatorConfigShape } from "./config.js";
export type {
  AppRoleConfig,
  ApplicationConfig,
  CertificateConfig,
  EmulatorConfig,
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

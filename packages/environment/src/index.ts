export {
  configurationFromEnvironment,
  ENVIRONMENT_VARIABLES,
  type AzureIdentityCredentialName,
  type EnvironmentClientOptions,
  type EnvironmentConfiguration,
  type EnvironmentCredentialKind,
} from "./environment.js";

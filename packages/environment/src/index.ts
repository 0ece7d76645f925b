export {
  configurationFromEnvironment,
  ENVIRONMENT_VARIABLES,
  type EnvironmentClientOptions,
  type EnvironmentConfiguration,
  type EnvironmentCredentialKind,
} from "./environment.js";

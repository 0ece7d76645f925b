export { clientSecret, type ClientSecretOptions, type ClientSecretSource } from "./client-secret.js";
export { clientSecretFromEnvironment, DEFAULT_SECRET_VARIABLE } from "./environment-variable-secret.js";

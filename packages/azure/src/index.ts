export { toTokenCredential, type TokenCredentialOptions } from "./token-credential.js";

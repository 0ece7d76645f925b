export {
  assertionCredential,
  DEFAULT_ASSERTION_MAX_AGE_MS,
  type AssertionContext,
  type AssertionCredential,
  type AssertionCredentialOptions,
  type AssertionSource,
} from "./assertion-credential.js";
export {
  federatedTokenFileCredential,
  FEDERATED_TOKEN_FILE_VARIABLE,
  type FederatedTokenFileCredentialOptions,
} from "./federated-token-file-credential.js";

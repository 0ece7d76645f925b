export { describeTokenCacheStore, type StoreSuiteOptions, type StoreUnderTest } from "./store-suite.js";
export { describeClientCredential, type CredentialSuiteOptions, type CredentialUnderTest } from "./credential-suite.js";
export { assertNoSecretIn, errorRenderings, renderings } from "./secrets.js";
export { sampleCredentialContext, SAMPLE_CLIENT_ID, SAMPLE_TOKEN_ENDPOINT } from "./context.js";
export {
  describeSharedStoreAcquisition,
  type SharedStoreAcquisitionOptions,
  type SharedStoreTarget,
} from "./shared-store-suite.js";
export { expectValidEmulatorToken, type ExpectedEmulatorToken } from "./emulator-token.js";

export { describeTokenCacheStore, STORE_GROUPS, type StoreGroupName, type StoreSuiteOptions } from "./store-suite.js";
export { useStoreUnderTest, type StoreGroupContext, type StoreUnderTest } from "./store/context.js";
export { storeBasicsTests } from "./store/basics.js";
export { storeExpiryTests } from "./store/expiry.js";
export { storeHostileKeyTests } from "./store/hostile-keys.js";
export { storeValueTests } from "./store/values.js";
export { storeConcurrencyTests } from "./store/concurrency.js";
export { storeClientIdentityTests } from "./store/client-identities.js";
export { storeLifecycleTests } from "./store/lifecycle.js";
export { storeLockTests } from "./store/lock.js";
export { describeClientCredential, type CredentialSuiteOptions, type CredentialUnderTest } from "./credential-suite.js";
export { assertNoSecretIn, errorRenderings, renderings } from "./secrets.js";
export { sampleCredentialContext, SAMPLE_CLIENT_ID, SAMPLE_TOKEN_ENDPOINT } from "./context.js";
export {
  describeSharedStoreAcquisition,
  type SharedStoreAcquisitionOptions,
  type SharedStoreTarget,
} from "./shared-store-suite.js";
export { expectValidEmulatorToken, type ExpectedEmulatorToken } from "./emulator-token.js";

export { createManagedIdentityClient } from "./managed-identity-client.js";
export {
  managedIdentityAssertion,
  TOKEN_EXCHANGE_AUDIENCES,
  type ManagedIdentityAssertion,
  type ManagedIdentityAssertionOptions,
} from "./managed-identity-assertion.js";
export type { ManagedIdentityClient, ManagedIdentityClientOptions, ManagedIdentitySource } from "./options.js";

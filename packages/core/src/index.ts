export * from "./errors.js";
export * from "./credential.js";
export * from "./cache-store.js";
export * from "./transport.js";
export * from "./environment.js";
export { redacted } from "./redacted.js";
export type * from "./client-types.js";
export { encryptedStore, type EncryptedStoreOptions } from "./encrypted-store.js";

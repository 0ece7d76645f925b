export * from "./errors.js";
export * from "./credential.js";
export * from "./cache-store.js";
export * from "./transport.js";
export * from "./environment.js";
export { redacted } from "./redacted.js";

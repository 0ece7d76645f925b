import { defineTestConfig } from "@daemon-auth/vitest-config";

// The shared config resolves the "module" condition, which picks @opentelemetry's bundler
// build (extensionless ESM imports that Node cannot load): resolve as Node does instead,
// as packages/opentelemetry does.
const config = defineTestConfig();
const conditions = ["@daemon-auth/source", "import", "node", "default"];
if (config.resolve !== undefined) config.resolve.conditions = conditions;
if (config.ssr?.resolve !== undefined) config.ssr.resolve.conditions = conditions;

export default config;

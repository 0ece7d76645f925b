import { config } from "@daemon-auth/eslint-config";

// bin/ is a two-line JS launcher outside the TypeScript project.
export default [...config, { ignores: ["bin/**"] }];

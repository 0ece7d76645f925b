import { config } from "@daemon-auth/eslint-config";

export default config;

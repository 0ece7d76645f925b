import { defineTestConfig } from "@daemon-auth/vitest-config";

export default defineTestConfig();

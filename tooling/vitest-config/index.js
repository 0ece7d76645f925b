// Tests run against the packages' TypeScript sources (the "@daemon-auth/source"
// export condition), so no build is needed between an edit and a test run.
import { defineConfig, mergeConfig } from "vitest/config";

const conditions = ["@daemon-auth/source", "import", "module", "node", "default"];

/** @param {import("vitest/config").UserConfig} [overrides] */
export function defineTestConfig(overrides = {}) {
  return mergeConfig(
    defineConfig({
      resolve: { conditions },
      ssr: { resolve: { conditions, externalConditions: ["@daemon-auth/source"] } },
      test: {
        include: ["test/**/*.test.ts"],
        testTimeout: 20_000,
        hookTimeout: 30_000,
        pool: "forks",
        // 2 cores: two workers keep the machine responsive for the servers the tests start.
        poolOptions: { forks: { maxForks: 2, minForks: 1 } },
      },
    }),
    overrides,
  );
}

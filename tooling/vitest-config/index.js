// Tests run against the packages' TypeScript sources (the "@daemon-auth/source"
// export condition), so no build is needed between an edit and a test run.
import { defineConfig, mergeConfig } from "vitest/config";
import { SecretHygieneReporter } from "./secret-hygiene-reporter.js";

const conditions = ["@daemon-auth/source", "import", "module", "node", "default"];

/** @param {import("vitest/config").UserConfig} [overrides] */
export function defineTestConfig(overrides = {}) {
  return mergeConfig(
    defineConfig({
      resolve: { conditions },
      ssr: { resolve: { conditions, externalConditions: ["@daemon-auth/source"] } },
      test: {
        include: ["test/**/*.test.ts"],
        // The hygiene reporter fails the run when a secret the run used shows up in its
        // output (see secret-hygiene-reporter.js). `--reporter` on the command line
        // replaces this list: add the reporter there too to keep the check.
        reporters: ["default", new SecretHygieneReporter()],
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

// Secret hygiene across a test run. The emulator appends every client secret, client
// assertion, access token and private key it handles to a ledger file (see
// packages/emulator/src/lib/secret-ledger.ts); this reporter creates that ledger when the
// run starts, keeps every line the tests print (child-process output they print
// included) and every error message, and at the end searches them for the ledger's
// secrets. One hit fails the run, with a message that names the kind of secret and the
// test, never the secret.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLedger, SECRET_LEDGER_ENV, secretScanner } from "./secret-scan.js";

/** @typedef {{ where: string; text: string }} Captured */

export class SecretHygieneReporter {
  /** @type {string | undefined} */
  #directory;
  /** @type {string | undefined} */
  #ledger;
  /** @type {{ taskId: string | undefined; type: string; content: string }[]} */
  #logs = [];
  /** @type {import("vitest/node").Vitest | undefined} */
  #vitest;

  /** @param {import("vitest/node").Vitest} vitest */
  onInit(vitest) {
    this.#vitest = vitest;
    // Each run gets its own ledger (a nested run inside a test must not share its parent's):
    // a private directory, a 0600 file, removed at the end of the run.
    this.#directory = mkdtempSync(join(tmpdir(), "daemon-auth-secret-ledger-"));
    this.#ledger = join(this.#directory, "ledger.jsonl");
    writeFileSync(this.#ledger, "", { mode: 0o600 });
    chmodSync(this.#ledger, 0o600);
    // Set before the workers start, so they and the processes they spawn inherit it.
    process.env[SECRET_LEDGER_ENV] = this.#ledger;
  }

  /** @param {import("vitest").UserConsoleLog} log */
  onUserConsoleLog(log) {
    this.#logs.push({ taskId: log.taskId, type: log.type, content: log.content });
  }

  /**
   * @param {readonly import("vitest/node").TestModule[]} testModules
   * @param {readonly unknown[]} unhandledErrors
   */
  onTestRunEnd(testModules, unhandledErrors) {
    if (this.#ledger === undefined) return;
    try {
      const scan = secretScanner(readLedger(this.#ledger));
      const names = new Map();
      /** @type {Captured[]} */
      const captured = [];
      for (const module of testModules) {
        names.set(module.id, module.moduleId);
        for (const suite of module.children.allSuites()) names.set(suite.id, `${module.moduleId} > ${suite.fullName}`);
        for (const error of module.errors()) captured.push({ where: `an error of ${module.moduleId}`, text: serialize(error) });
        for (const test of module.children.allTests()) {
          const name = `${module.moduleId} > ${test.fullName}`;
          names.set(test.id, name);
          for (const error of test.result().errors ?? []) captured.push({ where: `the failure of test "${name}"`, text: serialize(error) });
        }
      }
      for (const log of this.#logs) {
        const owner = log.taskId === undefined ? undefined : names.get(log.taskId);
        captured.push({ where: `${log.type} printed by ${owner === undefined ? "the test run" : `test "${owner}"`}`, text: log.content });
      }
      unhandledErrors.forEach((error) => captured.push({ where: "an unhandled error", text: serialize(error) }));

      const leaks = [];
      for (const { where, text } of captured) {
        for (const { kind, form } of scan(text)) leaks.push(`${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind}${form === "as is" ? "" : ` (${form})`} appears in ${where}`);
      }
      if (leaks.length > 0) {
        process.exitCode = 1;
        const report = [
          "",
          `Secret hygiene: FAILED — ${leaks.length} leak${leaks.length === 1 ? "" : "s"} of secrets this run used:`,
          ...[...new Set(leaks)].map((leak) => `  - ${leak}`),
          "Keep secrets, assertions, private keys and tokens out of logs, error messages and rendered objects.",
          "",
        ].join("\n");
        this.#vitest?.logger.error(report);
      }
    } finally {
      rmSync(/** @type {string} */ (this.#directory), { recursive: true, force: true });
      this.#ledger = undefined;
    }
  }
}

/** @param {unknown} error */
function serialize(error) {
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatReport, runBenchmarks } from "./bench.js";

// The results file belongs at the repo root whichever directory turbo runs us from.
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

const started = performance.now();
const report = await runBenchmarks({}, (line) => console.log(`… ${line}`));
console.log("");
console.log(formatReport(report));
const file = join(repoRoot(), "bench-results.json");
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${file} in ${((performance.now() - started) / 1000).toFixed(0)} s`);

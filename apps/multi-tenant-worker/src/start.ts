/**
 * `pnpm start`: one worker. Run several (processes, hosts) against the same REDIS_URL.
 * Configuration: see README (AZURE_*, REDIS_URL, TENANTS, GRAPH_URL, …). Stops after the
 * current tenant on SIGTERM or SIGINT and prints its summary.
 */
import { readSettingsOrExit } from "./settings.js";
import { describeSummary, runWorker } from "./worker.js";

const settings = readSettingsOrExit();
const name = process.env["WORKER_NAME"]?.trim() || `worker-${process.pid}`;
const controller = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => controller.abort());
console.log(`[${name}] ${settings.identity.describe()}; ${settings.tenants.length} customer tenants; cache ${new URL(settings.redisUrl).host}`);
try {
  const summary = await runWorker(settings, { name, print: (line) => console.log(line), signal: controller.signal });
  console.log(describeSummary(name, summary));
} catch (error) {
  console.error(`[${name}] stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

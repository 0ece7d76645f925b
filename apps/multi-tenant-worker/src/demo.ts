/**
 * `pnpm demo`: the multi-tenant story offline, in a few seconds: emulator, Redis
 * (REDIS_URL when set, else a private redis-server on a free port), onboarding through
 * the consent page, three workers, one tenant withdrawing consent mid-run.
 */
import { startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { runDemo } from "./demo-run.js";

let redisUrl = process.env["REDIS_URL"]?.trim();
let server: RedisServer | undefined;
if (!redisUrl) {
  try {
    server = await startRedisServer();
    redisUrl = server.url;
  } catch (error) {
    console.error(
      `The multi-tenant demo needs a Redis, which its worker processes share. ${error instanceof Error ? error.message : String(error)} ` +
        "Or set REDIS_URL to a Redis you run (e.g. redis://127.0.0.1:6379).",
    );
    process.exit(1);
  }
}
console.log("daemon-auth demo: a multi-tenant (ISV) worker, offline against the identity platform emulator");
try {
  const report = await runDemo({ redisUrl, print: (line) => console.log(line) });
  if (report.ok) {
    console.log("\nDone: one token per tenant across all workers; the withdrawn tenant was reported, marked for re-consent and not retried.");
  } else {
    console.error(`\nThe demo did not go as expected: ${report.problems.join("; ")}`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await server?.stop();
}

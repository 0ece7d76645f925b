/**
 * `pnpm onboard`: prints the admin consent URL of every customer tenant in TENANTS that
 * has not consented yet, receives the admins' answers on CONSENT_REDIRECT_URI (a loopback
 * URL registered on the app) and records them in Redis for the workers. Ctrl-C stops
 * waiting; run it again later for the rest.
 */
import { Redis } from "ioredis";
import { onboardTenants } from "./onboarding.js";
import { TenantRegistry } from "./registry.js";
import { readSettingsOrExit } from "./settings.js";

const settings = readSettingsOrExit();
const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1 });
try {
  const result = await onboardTenants(settings, new TenantRegistry(redis), { print: (line) => console.log(line), signal: controller.signal });
  console.log(`onboarded: ${result.consented.join(", ") || "none"}; declined: ${result.declined.join(", ") || "none"}; no answer yet: ${result.unanswered.join(", ") || "none"}`);
} catch (error) {
  console.error(`onboarding failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}

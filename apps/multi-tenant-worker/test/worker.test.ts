// One worker in-process against the emulator and a real redis-server: withdrawn consent
// is reported once and not retried, and a tenant consented again is taken back.
import { GRAPH_RESOURCE, GRAPH_USERS_ROLE, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoDirectory, demoEmulatorDirectory, demoEnvironment } from "../src/demo-run.js";
import { TenantRegistry } from "../src/registry.js";
import { readSettings } from "../src/settings.js";
import { runWorker } from "../src/worker.js";

const [FABRIKAM, , TAILSPIN] = demoDirectory.customers;
const REDIRECT = "http://localhost:8400/consent";

let emulator: Emulator;
let redisServer: RedisServer;
let redis: Redis;

beforeAll(async () => {
  [emulator, redisServer] = await Promise.all([startEmulator({ config: demoEmulatorDirectory(REDIRECT) }), startRedisServer()]);
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis?.disconnect();
  await Promise.all([emulator?.close(), redisServer?.stop()]);
});

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function consent(tenant: string): void {
  emulator.grant({ tenant, clientId: demoDirectory.clientId, resource: GRAPH_RESOURCE, roles: [GRAPH_USERS_ROLE] });
}

const refused = (domain: string): number =>
  emulator.requests.filter((request) => request.tenant === domain && request.path.endsWith("/token") && request.status !== 200).length;

describe("runWorker", () => {
  it("reports a withdrawn consent once, stops scheduling the tenant, and takes it back after re-consent", async () => {
    const registry = new TenantRegistry(redis);
    for (const tenant of [FABRIKAM, TAILSPIN]) {
      consent(tenant.domain);
      await registry.record(tenant.domain, { status: "consented", by: "test" });
    }
    const settings = readSettings({ ...demoEnvironment(emulator, redisServer.url, REDIRECT), TENANTS: `${FABRIKAM.domain},${TAILSPIN.domain}`, WORK_INTERVAL_MS: "20" });
    const lines: string[] = [];
    const controller = new AbortController();
    const running = runWorker(settings, { name: "w", print: (line) => lines.push(line), signal: controller.signal });
    const since = (pattern: RegExp): string[] => lines.slice(lines.findIndex((line) => pattern.test(line)));
    try {
      await until(() => lines.includes("[w] round 1 done: 50 users"), "the first round");
      expect(lines.slice(0, 2)).toEqual([
        `[w] round 1 tenant ${FABRIKAM.domain}: 25 users, token from network`,
        `[w] round 1 tenant ${TAILSPIN.domain}: 25 users, token from network`,
      ]);

      emulator.revoke({ tenant: FABRIKAM.domain, clientId: demoDirectory.clientId });
      await until(() => lines.some((line) => line.includes("CONSENT WITHDRAWN")), "the withdrawn consent to be noticed");
      const notice = lines.find((line) => line.includes("CONSENT WITHDRAWN"))!;
      expect(notice).toMatch(new RegExp(`^\\[w\\] tenant ${FABRIKAM.domain}: CONSENT WITHDRAWN, the token endpoint refused the tenant \\(AADSTS700016`));
      expect(notice).toContain(`ask its admin to open ${emulator.url}/${FABRIKAM.domain}/adminconsent?client_id=${demoDirectory.clientId}`);
      expect(await registry.get(FABRIKAM.domain)).toMatchObject({ status: "needs-consent", by: "w" });
      const refusedAtNotice = refused(FABRIKAM.domain);
      // One refused request: the claims retry after Graph's challenge; core does not hand back the rejected token.
      expect(refusedAtNotice).toBe(1);

      await until(() => since(/CONSENT WITHDRAWN/).filter((line) => / done: 25 users$/.test(line)).length >= 3, "three rounds without the tenant");
      expect(refused(FABRIKAM.domain)).toBe(refusedAtNotice);
      expect(since(/CONSENT WITHDRAWN/).slice(1).join("\n")).not.toContain(FABRIKAM.domain);

      consent(FABRIKAM.domain);
      await registry.record(FABRIKAM.domain, { status: "consented", by: "onboard" });
      await until(() => lines.some((line) => line.includes(`tenant ${FABRIKAM.domain}: 25 users`) && lines.indexOf(line) > lines.indexOf(notice)), "the tenant to be processed again");
      expect(since(/back in the schedule/)[0]).toBe(`[w] tenant ${FABRIKAM.domain}: consented again; back in the schedule`);
    } finally {
      controller.abort();
    }
    const summary = await running;
    expect(summary.needsConsent).toEqual([]);
    // One token per tenant from the endpoint; later ones from this process or Redis (still valid after re-consent).
    expect(summary.tokenSources.network).toBe(2);
    expect(emulator.tokenRequestCount({ tenant: TAILSPIN.domain })).toBe(1);
  });
});

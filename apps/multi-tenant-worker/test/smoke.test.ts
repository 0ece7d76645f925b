import { fileURLToPath } from "node:url";
import { spawnNode, startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoDirectory, runDemo, type DemoReport } from "../src/demo-run.js";

const source = (file: string): string => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

let redis: RedisServer;
let report: DemoReport;
const printed: string[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  report = await runDemo({ redisUrl: redis.url, print: (line) => printed.push(line) });
}, 150_000);
afterAll(async () => {
  await redis?.stop();
});

describe("multi-tenant-worker demo", () => {
  it("tells the whole story: onboarding, three workers, one withdrawn consent", () => {
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.workerExitCodes).toEqual([0, 0, 0]);
  });

  it("requests one token per consented tenant across all workers, none for the declined tenant", () => {
    const byDomain = Object.fromEntries(report.tenants.map((tenant) => [tenant.domain.split(".")[0], tenant]));
    expect(byDomain["fabrikam"]).toMatchObject({ status: "consented", tokensIssued: 1, tokensRefused: 0 });
    expect(byDomain["tailspin"]).toMatchObject({ status: "consented", tokensIssued: 1, tokensRefused: 0 });
    expect(byDomain["woodgrove"]).toMatchObject({ status: "declined", tokensIssued: 0, tokensRefused: 0 });
    expect(byDomain["northwind"]).toMatchObject({ status: "needs-consent", tokensIssued: 1 });
  });

  it("reports the withdrawn tenant with its consent URL and retries it a bounded number of times", () => {
    const northwind = report.tenants.find((tenant) => tenant.domain === "northwind.onmicrosoft.com")!;
    expect(northwind.tokensRefused).toBeGreaterThanOrEqual(1);
    expect(northwind.tokensRefused).toBeLessThanOrEqual(report.workerExitCodes.length);
    const reportLine = printed.find((line) => line.includes("tenant northwind.onmicrosoft.com: CONSENT WITHDRAWN"));
    expect(reportLine).toContain("AADSTS700016");
    expect(reportLine).toContain(`/northwind.onmicrosoft.com/adminconsent?client_id=${demoDirectory.clientId}`);
    for (const output of report.workerOutputs) {
      const noticed = /tenant northwind\.onmicrosoft\.com: (CONSENT WITHDRAWN|skipped, needs re-consent)/.exec(output);
      expect(noticed).not.toBeNull();
      const after = output.slice(noticed!.index + noticed![0].length);
      // Later rounds go on without that tenant.
      expect((after.match(/round \d+ done/g) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(after).not.toMatch(/tenant northwind\.onmicrosoft\.com: (\d+ users|failed)/);
      expect(output).toMatch(/summary: \d+ rounds, \d+ users, tokens from cache \d+, shared-cache \d+, network \d+; needs re-consent: northwind\.onmicrosoft\.com/);
    }
  });

  it("shows progress as it goes: tenant, items and token source", () => {
    expect(printed).toContainEqual(expect.stringMatching(/^ {3}\[worker-\d\] round 1 tenant fabrikam\.onmicrosoft\.com: 25 users, token from (network|shared-cache)$/));
    expect(printed.filter((line) => / round 1 tenant tailspin\.onmicrosoft\.com: 25 users, token from network$/.test(line)).length).toBeLessThanOrEqual(1);
    expect(printed).toContainEqual(expect.stringContaining("woodgrove.onmicrosoft.com: admin consent NOT given (access_denied: AADSTS65004"));
    expect(printed).toContainEqual(expect.stringMatching(/northwind\.onmicrosoft\.com +needs-consent +tokens issued 1, refused \d/));
    expect(printed.join("\n")).not.toContain(demoDirectory.clientSecret);
  });

  it("the worker and onboard commands name the missing variables and exit 2", async () => {
    const env = { AZURE_TENANT_ID: undefined, AZURE_CLIENT_ID: undefined, AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: undefined, AZURE_FEDERATED_TOKEN_FILE: undefined, REDIS_URL: undefined, TENANTS: "common", TENANTS_FILE: undefined };
    const results = await Promise.all(["start.ts", "onboard.ts"].map((script) => spawnNode(source(script), [], { env, timeoutMs: 60_000 })));
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("AZURE_TENANT_ID");
      expect(result.stderr).toContain("REDIS_URL");
      expect(result.stderr).toContain("TENANTS (common is neither a tenant GUID nor a verified domain");
    }
  });

  it("the demo without Redis says how to get one", async () => {
    const result = await spawnNode(source("demo.ts"), [], { env: { REDIS_URL: undefined, REDIS_SERVER_BIN: "/nonexistent/redis-server" }, timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("needs a Redis");
    expect(result.stderr).toContain("apt-get install redis-server");
    expect(result.stderr).toContain("set REDIS_URL");
  });
});

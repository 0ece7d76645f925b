import { fileURLToPath } from "node:url";
import { demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { spawnNode, startRedisServer, type RedisServer } from "@daemon-auth/test-utils";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callGraphEmulatorConfig, demoEnvironment, demoUsers, unconsentedApp } from "../src/demo-directory.js";
import { main, type Output } from "../src/daemon.js";

let emulator: Emulator;
let redis: RedisServer | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ config: callGraphEmulatorConfig(), graph: { users: [...demoUsers] } });
});
afterAll(async () => {
  await emulator?.close();
  await redis?.stop();
});
beforeEach(() => emulator.resetRequests());

function environmentOf(clientId: string, clientSecret: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...demoEnvironment(emulator, clientId, clientSecret), ...extra };
}

function recordingOutput(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (line) => out.push(line), error: (line) => err.push(line) };
}

const graphStatuses = (): number[] => emulator.requests.filter((request) => request.path === "/v1.0/users").map((request) => request.status);

describe("call-graph", () => {
  it("lists every user, page by page, with one token: network for the first page, then the cache", async () => {
    const output = recordingOutput();
    expect(await main(environmentOf(ids.daemonClientId, ids.daemonClientSecret), output)).toBe(0);

    expect(output.out.filter((line) => line.startsWith("page "))).toEqual([
      "page 1: 5 users (token from network)",
      "page 2: 5 users (token from cache)",
      "page 3: 2 users (token from cache)",
    ]);
    const userLines = output.out.filter((line) => line.startsWith("   ") && !line.startsWith("   Microsoft Graph at"));
    expect(userLines).toEqual(demoUsers.map((user) => `   ${user.displayName.padEnd(24)} ${user.userPrincipalName}`));
    expect(output.out.at(-1)).toBe("12 users on 3 pages, 1 token request.");
    expect(emulator.tokenRequestCount({ clientId: ids.daemonClientId })).toBe(1);
    expect(graphStatuses()).toEqual([200, 200, 200]);
    expect(output.err).toEqual([]);
    expect(output.out.join("\n")).not.toContain(ids.daemonClientSecret);
  });

  it("without admin consent, exits 1 and prints the admin consent URL of the tenant", async () => {
    const output = recordingOutput();
    expect(await main(environmentOf(unconsentedApp.clientId, unconsentedApp.clientSecret), output)).toBe(1);

    const message = output.err.join("\n");
    expect(message).toContain("Authorization_RequestDenied");
    expect(message).toContain("User.Read.All");
    expect(message).toContain(`${emulator.url}/${ids.tenantId}/adminconsent?client_id=${unconsentedApp.clientId}`);
    expect(message).not.toContain(unconsentedApp.clientSecret);
    expect(output.out.some((line) => line.startsWith("page "))).toBe(false);
    expect(graphStatuses()).toEqual([403]);
  });

  it("exits 2 naming what to set when the configuration is missing or invalid, before any request", async () => {
    const missing = recordingOutput();
    expect(await main({}, missing)).toBe(2);
    expect(missing.err.join("\n")).toMatch(/AZURE_TENANT_ID.*AZURE_CLIENT_ID.*AZURE_CLIENT_SECRET/s);

    const badUrl = recordingOutput();
    expect(await main(environmentOf(ids.daemonClientId, ids.daemonClientSecret, { GRAPH_URL: "http://graph.example.com" }), badUrl)).toBe(2);
    expect(badUrl.err.join("\n")).toContain("GRAPH_URL");

    const badPageSize = recordingOutput();
    expect(await main(environmentOf(ids.daemonClientId, ids.daemonClientSecret, { GRAPH_PAGE_SIZE: "1000" }), badPageSize)).toBe(2);
    expect(badPageSize.err.join("\n")).toContain("GRAPH_PAGE_SIZE");

    const badRedis = recordingOutput();
    expect(await main(environmentOf(ids.daemonClientId, ids.daemonClientSecret, { REDIS_URL: "http://user:pa55word@cache.internal" }), badRedis)).toBe(2);
    expect(badRedis.err.join("\n")).toMatch(/redis:\/\/ or rediss:\/\/ URL/);
    expect(badRedis.err.join("\n")).not.toContain("pa55word");
    expect(emulator.requests).toEqual([]);
  });

  it("with REDIS_URL, a second run takes the token from the shared cache", async () => {
    redis = await startRedisServer();
    const env = environmentOf(ids.daemonClientId, ids.daemonClientSecret, { REDIS_URL: redis.url });
    const first = recordingOutput();
    const second = recordingOutput();
    expect(await main(env, first)).toBe(0);
    expect(await main(env, second)).toBe(0);
    expect(first.out).toContain("page 1: 5 users (token from network)");
    expect(second.out).toContain("page 1: 5 users (token from shared-cache)");
    expect(second.out.at(-1)).toBe("12 users on 3 pages, 0 token requests.");
    expect(emulator.tokenRequestCount()).toBe(1);
  });

  it("pnpm demo tells the story and exits 0", async () => {
    const demo = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
    const { code, stdout, stderr } = await spawnNode(demo, [], { timeoutMs: 60_000 });
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining("adminconsent?client_id=") as unknown });
    expect(stdout).toContain("page 1: 5 users (token from network)");
    expect(stdout).toContain("page 3: 2 users (token from cache)");
    expect(stdout).toMatch(/^Done: /m);
    for (const secret of [ids.daemonClientSecret, unconsentedApp.clientSecret]) expect(stdout + stderr).not.toContain(secret);
  });
});

import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createDaemonClient } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { manualClock, startTokenServer, tokenReply } from "./support/token-server.js";

const SCOPE = "api://orders/.default";
const TENANT = "22222222-2222-2222-2222-222222222222";

let servers: Awaited<ReturnType<typeof startTokenServer>>[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function setup(clock = manualClock()) {
  const server = await startTokenServer(tokenReply({ expiresIn: 3600, refreshIn: 1800 }));
  servers.push(server);
  const client = createDaemonClient({
    authority: `${server.url}/${TENANT}`,
    clientId: "11111111-1111-1111-1111-111111111111",
    credential: testSecret("s3cr3t~value-that-must-not-leak"),
    clock,
  });
  return { client, clock, server };
}

describe("the AccessTokenResult", () => {
  it("prints everything but the access token in JSON.stringify and util.inspect", async () => {
    const { client, clock, server } = await setup();
    const network = await client.acquireTokenForClient({ scopes: [SCOPE], correlationId: "corr-7" });
    const hit = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(network.accessToken).toMatch(/^at-/);
    for (const result of [network, hit]) {
      const json = JSON.stringify(result);
      const inspected = inspect(result, { depth: 5, showHidden: true, getters: true });
      for (const printed of [json, inspected, inspect({ wrapped: result }), `${JSON.stringify([result])}`]) {
        expect(printed).not.toContain(result.accessToken);
        expect(printed).toContain("[redacted]");
        expect(printed).toContain("corr-7");
        expect(printed).toContain(TENANT);
        expect(printed).toContain(SCOPE);
      }
      expect(JSON.parse(json)).toEqual({
        accessToken: "[redacted]",
        tokenType: "Bearer",
        expiresOn: new Date(clock.now() + 3_600_000).toISOString(),
        refreshOn: new Date(clock.now() + 1_800_000).toISOString(),
        scopes: [SCOPE],
        tenantId: TENANT,
        source: result.source,
        correlationId: "corr-7",
        // Only a call that made a token request names its endpoint (JSON leaves out undefined).
        ...(result.source === "network" ? { tokenEndpoint: `${server.url}/${TENANT}/oauth2/v2.0/token` } : {}),
      });
    }
    // Spreading still copies the token: the printers are not enumerable own properties.
    expect({ ...hit }.accessToken).toBe(hit.accessToken);
    expect(Object.keys(hit)).not.toContain("toJSON");
  });

  it("answers a hit with the same object, and builds a fresh Date on every read", async () => {
    const { client, clock } = await setup();
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    const hit = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(hit.source).toBe("cache");
    // A hit allocates no answer: the one built when the token was stored is returned again.
    expect(await client.acquireTokenForClient({ scopes: [SCOPE] })).toBe(hit);
    expect(await client.acquireTokenForClient({ scopes: [SCOPE] })).toBe(hit);

    const expiresOn = hit.expiresOn;
    expect(expiresOn.getTime()).toBe(clock.now() + 3_600_000);
    expect(hit.refreshOn.getTime()).toBe(clock.now() + 1_800_000);
    expect(hit.expiresOn).not.toBe(expiresOn);
    // A caller that changes its Date changes neither the answer nor the cache.
    expiresOn.setTime(0);
    expect(hit.expiresOn.getTime()).toBe(clock.now() + 3_600_000);
    expect(await client.acquireTokenForClient({ scopes: [SCOPE] })).toBe(hit);
    expect(Object.isFrozen(hit)).toBe(true);
    expect(Object.keys(hit)).not.toContain("usableUntil");
    expect(Object.keys(hit)).not.toContain("scopeKey");
  });

  // A hit reads a whole-second copy of the refresh time (see TokenResult); the exact
  // millisecond must still decide, whatever the clock says the year is.
  it.each([
    ["2026, off a whole second", Date.UTC(2026, 5, 1, 12, 0, 0, 123)],
    ["1970 (a test clock at zero)", 123],
    ["2100 (past the whole-second range)", Date.UTC(2100, 0, 1, 0, 0, 0, 456)],
  ])("starts the background refresh at the exact refresh time, not a millisecond earlier: clock in %s", async (_, start) => {
    const { client, clock, server } = await setup(manualClock(start));
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    clock.advance(1_800_000 - 1);
    expect((await client.acquireTokenForClient({ scopes: [SCOPE] })).source).toBe("cache");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.tokenRequests).toHaveLength(1);

    clock.advance(1);
    expect((await client.acquireTokenForClient({ scopes: [SCOPE] })).source).toBe("cache");
    await expect.poll(() => server.tokenRequests.length).toBe(2);
  });
});

// Numbers and strings from a server, a store or the caller must not break the cache
// (issue #12): absurd lifetimes, key parts that contain the key separator, entries under
// the wrong key, stores that never answer, scopes and tenants spelt two ways.
import { describe, expect, it } from "vitest";
import { ConfigurationError, createDaemonClient, InvalidRequestError, type StoreLock, type TokenCacheStore } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { useTestHarness } from "./support/harness.js";
import { captureLogs } from "./support/logs.js";
import { hangingStore, mapStore } from "./support/map-store.js";
import { json, manualClock, tokenReply, type Reply } from "./support/token-server.js";

const SCOPE = "api://orders/.default";
const TENANT = "22222222-2222-2222-2222-222222222222";
const DAY_MS = 24 * 60 * 60_000;

const { server, client } = useTestHarness({ retry: { baseDelayMs: 1, maxDelayMs: 100 } });

let issued = 0;
/** A token response with exactly this `expires_in`, and a token no other reply has. */
function lifetimeReply(expiresIn: number): Reply {
  return (_request, response) => {
    issued += 1;
    json(response, 200, { token_type: "Bearer", expires_in: expiresIn, access_token: `lifetime-${String(issued)}` });
  };
}

describe("the token lifetime cap", () => {
  it.each([1e12, 1e308])(
    "caps expires_in %d at maxTokenLifetimeMs (24 h by default): a valid expiresOn, stored with that expiry, fetched again after a day",
    async (expiresIn) => {
      const clock = manualClock();
      const store = mapStore();
      const tokens = await server(lifetimeReply(expiresIn));
      const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret("s"), clock, cache: store });
      const issuedAt = clock.now();

      const first = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
      expect(first.expiresOn.getTime()).toBe(issuedAt + DAY_MS);
      // Refresh timing follows the capped lifetime: half-life for a token of two hours or more.
      expect(first.refreshOn.getTime()).toBe(issuedAt + DAY_MS / 2);
      expect([...store.data.values()].map((entry) => entry.expiresAt)).toEqual([issuedAt + DAY_MS]);

      clock.advance(DAY_MS);
      const next = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
      expect(next.source).toBe("network");
      expect(next.accessToken).not.toBe(first.accessToken);
      expect(tokens.tokenRequests).toHaveLength(2);
    },
  );

  it("uses a smaller maxTokenLifetimeMs, and leaves shorter lifetimes alone", async () => {
    const clock = manualClock();
    const long = await server(lifetimeReply(3600));
    const capped = client({ authority: `${long.url}/${TENANT}`, clientId: "app", credential: testSecret("s"), clock, maxTokenLifetimeMs: 600_000 });
    expect((await capped.acquireTokenForClient({ scopes: [SCOPE] })).expiresOn.getTime()).toBe(clock.now() + 600_000);
    const free = client({ authority: `${long.url}/${TENANT}`, clientId: "app", credential: testSecret("s"), clock });
    expect((await free.acquireTokenForClient({ scopes: [SCOPE] })).expiresOn.getTime()).toBe(clock.now() + 3_600_000);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, "86400000"])("refuses maxTokenLifetimeMs %s", (value) => {
    expect(() =>
      createDaemonClient({
        tenantId: TENANT,
        clientId: "app",
        credential: testSecret("s"),
        maxTokenLifetimeMs: value as number,
      }),
    ).toThrow(/^createDaemonClient: 'maxTokenLifetimeMs' must be a positive number of milliseconds/);
  });
});

describe("cache keys that cannot collide", () => {
  // Joined with a bare '|', both identities made the key `<url>/x|c1|app|<tenant>|<scope>`.
  const colliding = (url: string) =>
    [
      { authority: `${url}/x|c1/${TENANT}`, clientId: "app" },
      { authority: `${url}/x/${TENANT}`, clientId: "c1|app" },
    ] as const;

  it("gives two clients whose authority path and client id hold the separator their own tokens from one shared store", async () => {
    const tokens = await server();
    const store = mapStore();
    const [a, b] = colliding(tokens.url).map((identity) => client({ ...identity, credential: testSecret("s"), cache: store }));

    const tokenA = await a!.acquireTokenForClient({ scopes: [SCOPE] });
    const tokenB = await b!.acquireTokenForClient({ scopes: [SCOPE] });
    expect(tokenB.source).toBe("network");
    expect(tokenB.accessToken).not.toBe(tokenA.accessToken);
    expect(tokens.tokenRequests.map((request) => request.form.get("client_id"))).toEqual(["app", "c1|app"]);
    expect(store.data.size).toBe(2);

    // And each identity still shares its own entry with another client of that identity.
    const [a2, b2] = colliding(tokens.url).map((identity) => client({ ...identity, credential: testSecret("s"), cache: store }));
    expect(await a2!.acquireTokenForClient({ scopes: [SCOPE] })).toMatchObject({ source: "shared-cache", accessToken: tokenA.accessToken });
    expect(await b2!.acquireTokenForClient({ scopes: [SCOPE] })).toMatchObject({ source: "shared-cache", accessToken: tokenB.accessToken });
    expect(tokens.tokenRequests).toHaveLength(2);
  });

  it("treats an entry stored for another identity as a miss, even under the key asked for", async () => {
    // A store that answers every key with the last value written: what a key collision,
    // a store bug or a hostile writer looks like from core.
    let slot: string | undefined;
    const oneSlot: TokenCacheStore = {
      name: "one-slot",
      get: () => Promise.resolve(slot),
      set: (_key, value) => {
        slot = value;
        return Promise.resolve();
      },
      delete: () => Promise.resolve(),
    };
    const tokens = await server();
    const options = { credential: testSecret("s"), cache: oneSlot } as const;
    const home = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app-a", ...options });
    const first = await home.acquireTokenForClient({ scopes: [SCOPE] });

    const others = [
      client({ authority: `${tokens.url}/${TENANT}`, clientId: "app-b", ...options }),
      client({ authority: `${tokens.url}/prefix/${TENANT}`, clientId: "app-a", ...options }),
    ];
    for (const other of others) {
      const result = await other.acquireTokenForClient({ scopes: [SCOPE] });
      expect(result.source).toBe("network");
      expect(result.accessToken).not.toBe(first.accessToken);
      slot = undefined;
      await home.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true }); // home's entry back in the slot
    }
    const same = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app-a", ...options });
    expect((await same.acquireTokenForClient({ scopes: [SCOPE] })).source).toBe("shared-cache");
  });

  it("keeps keys readable: parts without '|' or '%' are unchanged", async () => {
    const tokens = await server();
    const store = mapStore();
    await client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret("s"), cache: store }).acquireTokenForClient({
      scopes: [SCOPE],
    });
    expect([...store.data.keys()]).toEqual([`${tokens.url}|app|${TENANT}|${SCOPE}`]);
  });
});

describe("a store that never answers", () => {
  it("costs at most storeTimeoutMs per call: the network answers, and the failure is logged once", async () => {
    const tokens = await server();
    const store = hangingStore();
    const { logger, logs } = captureLogs();
    const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret("s"), cache: store, storeTimeoutMs: 50, logger });

    const first = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await daemon.acquireTokenForClient({ scopes: [SCOPE], tenantId: "tenant-b.example.com" });
    expect([first.source, second.source]).toEqual(["network", "network"]);
    expect(tokens.tokenRequests).toHaveLength(2);
    expect(store.calls).toContain("get");
    expect(store.calls).toContain("lock");
    expect(store.calls).toContain("set");
    const warnings = logs.filter((line) => /shared token cache is unavailable/.test(line.message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields?.["error"]).toMatch(/ERR_CACHE: The hanging store did not answer 'get' within 50 ms/);
    // Served from the index afterwards, without asking the store again.
    const calls = store.calls.length;
    expect((await daemon.acquireTokenForClient({ scopes: [SCOPE] })).source).toBe("cache");
    expect(store.calls).toHaveLength(calls);
  });

  it("releases a lock the store grants after the client stopped waiting for it", async () => {
    const tokens = await server();
    const released: string[] = [];
    let grant: ((lock: StoreLock) => void) | undefined;
    const late: TokenCacheStore = {
      name: "late",
      get: () => Promise.resolve(undefined),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      lock: (key) =>
        new Promise((resolve) => {
          grant = () => resolve({ release: () => Promise.resolve(void released.push(key)) });
        }),
    };
    const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret("s"), cache: late, storeTimeoutMs: 20 });
    expect((await daemon.acquireTokenForClient({ scopes: [SCOPE] })).source).toBe("network");
    expect(released).toEqual([]);
    grant?.({ release: () => Promise.resolve() });
    await expect.poll(() => released).toHaveLength(1);
  });

  it.each([0, -5, "2000"])("refuses storeTimeoutMs %s", (value) => {
    expect(() =>
      createDaemonClient({ tenantId: TENANT, clientId: "app", credential: testSecret("s"), storeTimeoutMs: value as number }),
    ).toThrow(ConfigurationError);
  });
});

describe("one scope rule, hot or cold (generic issuer)", () => {
  async function issuerServer() {
    const tokens = await server();
    const reply = tokenReply();
    tokens.setReply((request, response) => {
      if (request.method === "GET") {
        return json(response, request.path === "/.well-known/openid-configuration" ? 200 : 404, {
          issuer: tokens.url,
          token_endpoint: `${tokens.url}/token`,
        });
      }
      return reply(request, response);
    });
    return tokens;
  }

  it("refuses ['a b'] before and after ['a','b'] is cached", async () => {
    const tokens = await issuerServer();
    const daemon = client({ issuer: tokens.url, clientId: "svc", credential: testSecret("s") });
    await expect(daemon.acquireTokenForClient({ scopes: ["a b"] })).rejects.toThrow(InvalidRequestError);
    await daemon.acquireTokenForClient({ scopes: ["a", "b"] });
    expect((await daemon.acquireTokenForClient({ scopes: ["b", "a"] })).source).toBe("cache");
    await expect(daemon.acquireTokenForClient({ scopes: ["a b"] })).rejects.toThrow(InvalidRequestError);
    expect(tokens.tokenRequests).toHaveLength(1);
  });

  it("refuses ['a b'] when ['a','b'] is cached first", async () => {
    const tokens = await issuerServer();
    const daemon = client({ issuer: tokens.url, clientId: "svc", credential: testSecret("s") });
    await daemon.acquireTokenForClient({ scopes: ["b", "a"] });
    await expect(daemon.acquireTokenForClient({ scopes: ["a b"] })).rejects.toThrow(InvalidRequestError);
    expect((await daemon.acquireTokenForClient({ scopes: ["a", "b"] })).source).toBe("cache");
  });
});

describe("tenant ids in any case", () => {
  it.each([
    ["CONTOSO.onmicrosoft.com", "contoso.onmicrosoft.com"],
    ["contoso.onmicrosoft.com", "Contoso.OnMicrosoft.com"],
    ["AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"],
    ["aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"],
  ])("one token request for %s then %s", async (firstSpelling, secondSpelling) => {
    const tokens = await server();
    const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret("s") });
    const first = await daemon.acquireTokenForClient({ scopes: [SCOPE], tenantId: firstSpelling });
    const second = await daemon.acquireTokenForClient({ scopes: [SCOPE], tenantId: secondSpelling });
    expect(second).toMatchObject({ source: "cache", accessToken: first.accessToken });
    expect((await daemon.acquireTokenForClient({ scopes: [SCOPE], tenantId: firstSpelling })).source).toBe("cache");
    expect(tokens.tokenRequests).toHaveLength(1);
  });

  it("one token request for a configured tenant in upper case, asked for in lower case and by default", async () => {
    const tokens = await server();
    const daemon = client({ authority: `${tokens.url}/CONTOSO.onmicrosoft.com`, clientId: "app", credential: testSecret("s") });
    const first = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    expect((await daemon.acquireTokenForClient({ scopes: [SCOPE], tenantId: "contoso.onmicrosoft.com" })).accessToken).toBe(first.accessToken);
    expect((await daemon.acquireTokenForClient({ scopes: [SCOPE], tenantId: "CONTOSO.onmicrosoft.com" })).accessToken).toBe(first.accessToken);
    expect(tokens.tokenRequests).toHaveLength(1);
  });
});

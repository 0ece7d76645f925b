import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  AbortError,
  createDaemonClient,
  InvalidResponseError,
  ServerError,
  ThrottledError,
  TimeoutError,
  type DaemonClientOptions,
  type TokenCacheStore,
} from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { captureLogs } from "./support/logs.js";
import { errorReply, json, manualClock, startTokenServer, tokenReply, type Reply } from "./support/token-server.js";

const SCOPE = "api://orders/.default";
const TENANT = "22222222-2222-2222-2222-222222222222";
const CLIENT_ID = "11111111-1111-1111-1111-111111111111";
const SECRET = "s3cr3t~value-that-must-not-leak";

let servers: Awaited<ReturnType<typeof startTokenServer>>[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function setup(reply: Reply, options: Partial<DaemonClientOptions> = {}) {
  const server = await startTokenServer(reply);
  servers.push(server);
  const { logger, logs } = captureLogs();
  const client = createDaemonClient({
    authority: `${server.url}/${TENANT}`,
    clientId: CLIENT_ID,
    credential: testSecret(SECRET),
    retry: { baseDelayMs: 1, maxDelayMs: 2_000 },
    logger,
    ...options,
  });
  return { server, client, logs };
}

describe("acquireTokenForClient", () => {
  it("sends the Entra client credentials request and returns the token", async () => {
    const { server, client } = await setup(tokenReply());
    const result = await client.acquireTokenForClient({ scopes: [SCOPE], correlationId: "corr-42" });
    expect(result.source).toBe("network");
    expect(result.tokenType).toBe("Bearer");
    expect(result.scopes).toEqual([SCOPE]);
    expect(result.tenantId).toBe(TENANT);
    expect(result.correlationId).toBe("corr-42");
    const [request] = server.tokenRequests;
    expect(request?.path).toBe(`/${TENANT}/oauth2/v2.0/token`);
    expect(Object.fromEntries(request!.form)).toEqual({
      grant_type: "client_credentials",
      scope: SCOPE,
      client_id: CLIENT_ID,
      client_secret: SECRET,
    });
    expect(request?.headers["client-request-id"]).toBe("corr-42");
    expect(request?.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it("serves the second call from the in-process cache with the same token", async () => {
    const { server, client } = await setup(tokenReply());
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(second.source).toBe("cache");
    expect(second.accessToken).toBe(first.accessToken);
    expect(second.correlationId).toBe(first.correlationId);
    expect(server.tokenRequests).toHaveLength(1);
  });

  it("keys the cache by tenant", async () => {
    const { server, client } = await setup(tokenReply());
    const a = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: "tenant-a.example.com" });
    const b = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: "tenant-b.example.com" });
    expect(a.accessToken).not.toBe(b.accessToken);
    expect(server.tokenRequests.map((r) => r.path)).toEqual([
      "/tenant-a.example.com/oauth2/v2.0/token",
      "/tenant-b.example.com/oauth2/v2.0/token",
    ]);
  });

  it("makes exactly one token request for 1,000 concurrent cold calls", async () => {
    const { server, client } = await setup(tokenReply({ delayMs: 50 }));
    const results = await Promise.all(Array.from({ length: 1000 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
    expect(server.tokenRequests).toHaveLength(1);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
  });

  it("refreshes once in the background past refresh_in while callers get the cached token", async () => {
    const clock = manualClock();
    const { server, client } = await setup(tokenReply({ expiresIn: 7200, refreshIn: 3600, delayMs: 100 }), { clock });
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(first.refreshOn.getTime() - clock.now()).toBe(3600_000);
    clock.advance(3601_000);
    const during = await Promise.all(Array.from({ length: 50 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
    expect(during.every((r) => r.accessToken === first.accessToken && r.source === "cache")).toBe(true);
    await expect.poll(() => server.tokenRequests.length).toBe(2);
    await expect.poll(async () => (await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).not.toBe(
      first.accessToken,
    );
    expect(server.tokenRequests).toHaveLength(2);
  });

  it("refreshes at half-life for tokens of two hours or more, and before the expiry margin otherwise", async () => {
    const clock = manualClock();
    const long = await setup(tokenReply({ expiresIn: 4 * 3600 }), { clock });
    const a = await long.client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(a.refreshOn.getTime() - clock.now()).toBe(2 * 3600_000);
    const short = await setup(tokenReply({ expiresIn: 3600 }), { clock });
    const b = await short.client.acquireTokenForClient({ scopes: [SCOPE] });
    // usable until expiry − 5 min margin; refresh starts 5 min before that
    expect(b.refreshOn.getTime() - clock.now()).toBe(50 * 60_000);
  });

  it("waits for the network once the token is inside the expiry margin", async () => {
    const clock = manualClock();
    const { server, client } = await setup(tokenReply({ expiresIn: 3600 }), { clock, expiryMarginMs: 60_000 });
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    clock.advance(3600_000 - 30_000);
    const second = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(second.source).toBe("network");
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(server.tokenRequests).toHaveLength(2);
  });

  it("serves the cached token while a refresh fails and it is still valid; fails once it expired", async () => {
    const clock = manualClock();
    const { server, client, logs } = await setup(tokenReply({ expiresIn: 3600 }), { clock });
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    server.setReply(errorReply(503, "temporarily_unavailable", 0));
    clock.advance(3600_000 - 60_000); // inside the margin, before expiry
    const stale = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(stale.accessToken).toBe(first.accessToken);
    expect(logs.some((l) => l.level === "warn" && /serving the cached token/.test(l.message))).toBe(true);
    clock.advance(120_000); // past expiry
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
  });

  it("forceRefresh and claims skip the cache read but still write", async () => {
    const { server, client } = await setup(tokenReply());
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    const forced = await client.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    expect(forced.source).toBe("network");
    expect(forced.accessToken).not.toBe(first.accessToken);
    const claims = '{"access_token":{"xms_cc":{"values":["cp1"]}}}';
    const challenged = await client.acquireTokenForClient({ scopes: [SCOPE], claims });
    expect(server.tokenRequests.at(-1)?.form.get("claims")).toBe(claims);
    const after = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(after.accessToken).toBe(challenged.accessToken);
    expect(after.source).toBe("cache");
    await expect(client.acquireTokenForClient({ scopes: [SCOPE], claims: "not json" })).rejects.toThrow(/JSON object/);
  });

  it("a failed claims request is not answered with the token the resource just rejected", async () => {
    let failing = false;
    const { server, client } = await setup((request, response) =>
      failing ? errorReply(400, "invalid_client", 700016)(request, response) : tokenReply()(request, response),
    );
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    failing = true;
    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
    await expect(client.acquireTokenForClient({ scopes: [SCOPE], claims })).rejects.toBeInstanceOf(ServerError);
    expect(server.tokenRequests).toHaveLength(2);
    // A plain request may still be answered from the cache: only the challenged caller knows the token is refused.
    expect((await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).toBe(first.accessToken);
  });

  it("reports every acquisition to the onAcquire hook, and a throwing hook costs no token", async () => {
    const events: { source: string; cacheKey: string; durationMs: number }[] = [];
    const { server, client, logs } = await setup(tokenReply(), {
      telemetry: {
        onAcquire: (event) => {
          events.push(event);
          if (events.length === 2) throw new Error("telemetry bug");
        },
      },
    });
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    await client.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    expect(events.map((event) => event.source)).toEqual(["network", "cache", "network"]);
    expect(new Set(events.map((event) => event.cacheKey))).toEqual(new Set([`${server.url}|${CLIENT_ID}|${TENANT}|${SCOPE}`]));
    expect(events.every((event) => event.durationMs >= 0)).toBe(true);
    expect(logs.filter((l) => /onAcquire telemetry hook threw/.test(l.message))).toHaveLength(1);
  });

  it("sends the secret in an HTTP Basic header with client_secret_basic", async () => {
    const { server, client } = await setup(tokenReply(), {
      tokenEndpointAuthMethod: "client_secret_basic",
      credential: testSecret("a b:c/é"),
    });
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    const request = server.tokenRequests[0]!;
    expect(request.form.has("client_secret")).toBe(false);
    const decoded = Buffer.from(String(request.headers.authorization).replace(/^Basic /, ""), "base64").toString();
    expect(decoded).toBe(`${CLIENT_ID}:a+b%3Ac%2F%C3%A9`);
  });
});

describe("errors and retries", () => {
  it("maps an Entra error response to ServerError with its fields and a mitigation, without retrying", async () => {
    const { server, client } = await setup(errorReply(401, "invalid_client", 7000215));
    const error = (await client.acquireTokenForClient({ scopes: [SCOPE] }).catch((e: unknown) => e)) as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.code).toBe("ERR_SERVER");
    expect(error.status).toBe(401);
    expect(error.error).toBe("invalid_client");
    expect(error.errorCodes).toEqual([7000215]);
    // Issue #12: ids are kept only when they are GUIDs; errorReply sends "trace-1" / "corr-1".
    expect(error.traceId).toBeUndefined();
    expect(error.correlationId).toBeUndefined();
    expect(error.mitigation).toMatch(/secret's value, not its id/);
    expect(error.message).not.toContain(SECRET);
    // a rotation-type code gets one reload-and-retry, then no more
    expect(server.tokenRequests).toHaveLength(2);
  });

  it("remembers a permanent configuration error briefly instead of hammering the server", async () => {
    const clock = manualClock();
    const { server, client } = await setup(errorReply(400, "unauthorized_client", 700016), { clock, errorCacheMs: 30_000 });
    for (let i = 0; i < 20; i++) {
      await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    }
    expect(server.tokenRequests).toHaveLength(1);
    clock.advance(31_000);
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(server.tokenRequests).toHaveLength(2);
  });

  it("retries 5xx with backoff up to the attempt budget", async () => {
    const { server, client } = await setup(errorReply(500, "server_error", 0), { retry: { maxAttempts: 3, baseDelayMs: 1 } });
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(server.tokenRequests).toHaveLength(3);
  });

  it("recovers when a retry succeeds", async () => {
    let calls = 0;
    const ok = tokenReply();
    const { server, client } = await setup((request, response) => {
      calls += 1;
      if (calls === 1) return json(response, 503, { error: "temporarily_unavailable" });
      return ok(request, response);
    });
    const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(result.source).toBe("network");
    expect(server.tokenRequests).toHaveLength(2);
  });

  it.each([
    ["delta-seconds", () => "1"],
    ["an HTTP-date", () => new Date(Date.now() + 2000).toUTCString()],
  ])("honours Retry-After as %s", async (_name, retryAfter) => {
    const times: number[] = [];
    const ok = tokenReply();
    const { client } = await setup((request, response) => {
      times.push(Date.now());
      if (times.length === 1) return json(response, 429, { error: "throttled" }, { "retry-after": retryAfter() });
      return ok(request, response);
    });
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);
  });

  it("sends nothing before a long Retry-After expires, for every caller of the key", async () => {
    const { server, client } = await setup(errorReply(429, "throttled", 0, { "retry-after": "120" }));
    const error = await client.acquireTokenForClient({ scopes: [SCOPE] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfter.getTime()).toBeGreaterThan(Date.now() + 100_000);
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ThrottledError);
    expect(server.tokenRequests).toHaveLength(1);
  });

  it("times out a hanging attempt and retries it", async () => {
    const ok = tokenReply();
    let calls = 0;
    const { server, client } = await setup(
      (request, response) => {
        calls += 1;
        if (calls === 1) return; // never answers
        return ok(request, response);
      },
      { requestTimeoutMs: 200 },
    );
    const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(result.source).toBe("network");
    expect(server.tokenRequests).toHaveLength(2);
  });

  it("fails with TimeoutError when every attempt hangs", async () => {
    const { client } = await setup(() => undefined, { requestTimeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 1 } });
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(TimeoutError);
  });

  it.each([
    ["an HTML error page", (r: Parameters<Reply>[1]) => r.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>")],
    ["malformed JSON", (r: Parameters<Reply>[1]) => r.writeHead(200, { "content-type": "application/json" }).end("{")],
    ["a JSON array", (r: Parameters<Reply>[1]) => r.writeHead(200, { "content-type": "application/json" }).end("[]")],
    ["an oversized body", (r: Parameters<Reply>[1]) => r.writeHead(200).end("x".repeat(2 * 1024 * 1024))],
    ["no expires_in", (r: Parameters<Reply>[1]) => json(r, 200, { token_type: "Bearer", access_token: "x" })],
    ["a non-Bearer token", (r: Parameters<Reply>[1]) => json(r, 200, { token_type: "pop", access_token: "x", expires_in: 10 })],
  ])("refuses %s with InvalidResponseError", async (_name, reply) => {
    const { client } = await setup((_request, response) => reply(response), { retry: { maxAttempts: 1 } });
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(InvalidResponseError);
  });

  it("honours the caller's signal without cancelling the shared request", async () => {
    const { server, client } = await setup(tokenReply({ delayMs: 300 }));
    const controller = new AbortController();
    const aborted = client.acquireTokenForClient({ scopes: [SCOPE], signal: controller.signal });
    const patient = client.acquireTokenForClient({ scopes: [SCOPE] });
    setTimeout(() => controller.abort(), 20);
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    await expect(patient).resolves.toMatchObject({ source: "network" });
    expect(server.tokenRequests).toHaveLength(1);
  });
});

describe("credential rotation", () => {
  it("reloads a rejected credential and tries the next one once, then keeps using it", async () => {
    const reloads: number[][] = [];
    const { server, client, logs } = await setup(
      (request, response) =>
        request.form.get("client_secret") === "new" ? tokenReply()(request, response) : errorReply(401, "invalid_client", 7000222)(request, response),
      { credential: [testSecret("old", (reason) => reloads.push([...reason.errorCodes])), testSecret("new")] },
    );
    const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(result.source).toBe("network");
    expect(reloads).toEqual([[7000222]]);
    expect(server.tokenRequests.map((r) => r.form.get("client_secret"))).toEqual(["old", "new"]);
    expect(logs.some((l) => /rotated credential was accepted/.test(l.message))).toBe(true);
    await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: "other.example.com" });
    expect(server.tokenRequests.at(-1)?.form.get("client_secret")).toBe("new");
  });

  it("does not resend a credential that cannot change", async () => {
    const fixed = { kind: "secret", getAuthentication: async () => ({ clientSecret: "wrong" }) };
    const { server, client } = await setup(errorReply(401, "invalid_client", 7000215), { credential: fixed });
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(server.tokenRequests).toHaveLength(1);
  });

  it("does not loop when every credential is rejected", async () => {
    const { server, client } = await setup(errorReply(401, "invalid_client", 700027), {
      credential: [testSecret("a"), testSecret("b")],
    });
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(server.tokenRequests).toHaveLength(2);
  });
});

describe("generic OAuth 2.0 servers", () => {
  it("discovers the token endpoint once and sends generic scopes", async () => {
    const ok = tokenReply();
    const server = await startTokenServer((request, response) => {
      if (request.path === "/realm/.well-known/openid-configuration") {
        return json(response, 200, { issuer: `${server.url}/realm`, token_endpoint: `${server.url}/realm/token` });
      }
      return ok(request, response);
    });
    servers.push(server);
    const client = createDaemonClient({ issuer: `${server.url}/realm`, clientId: "svc", credential: testSecret("x") });
    await client.acquireTokenForClient({ scopes: ["write", "read"] });
    await client.acquireTokenForClient({ scopes: ["read", "write"], forceRefresh: true });
    expect(server.requests.filter((r) => r.method === "GET")).toHaveLength(1);
    expect(server.tokenRequests.map((r) => [r.path, r.form.get("scope")])).toEqual([
      ["/realm/token", "read write"],
      ["/realm/token", "read write"],
    ]);
  });

  it("falls back to RFC 8414 metadata and refuses tenantId per request", async () => {
    const ok = tokenReply();
    const server = await startTokenServer((request, response) => {
      if (request.path === "/.well-known/oauth-authorization-server/realm") {
        return json(response, 200, { issuer: `${server.url}/realm`, token_endpoint: `${server.url}/token` });
      }
      if (request.method === "GET") return json(response, 404, {});
      return ok(request, response);
    });
    servers.push(server);
    const client = createDaemonClient({ issuer: `${server.url}/realm`, clientId: "svc", credential: testSecret("x") });
    await expect(client.acquireTokenForClient({ scopes: ["read"] })).resolves.toMatchObject({ source: "network" });
    await expect(client.acquireTokenForClient({ scopes: ["read"], tenantId: "t1" })).rejects.toThrow(/Entra authorities only/);
  });

  it("refuses metadata whose issuer does not match", async () => {
    const server = await startTokenServer((_request, response) =>
      json(response, 200, { issuer: "https://evil.example.com", token_endpoint: "https://evil.example.com/token" }),
    );
    servers.push(server);
    const client = createDaemonClient({ issuer: server.url, clientId: "svc", credential: testSecret("x") });
    await expect(client.acquireTokenForClient({ scopes: ["read"] })).rejects.toThrow(/declares issuer/);
    expect(server.tokenRequests).toHaveLength(0);
  });
});

describe("shared store", () => {
  function mapStore(): TokenCacheStore & { data: Map<string, string>; gets: number } {
    const data = new Map<string, string>();
    const store = {
      name: "map",
      data,
      gets: 0,
      async get(key: string) {
        store.gets += 1;
        return data.get(key);
      },
      async set(key: string, value: string) {
        data.set(key, value);
      },
      async delete(key: string) {
        data.delete(key);
      },
    };
    return store;
  }

  it("answers from the store across clients, and a hit in the index never touches the store", async () => {
    const store = mapStore();
    const { server, client } = await setup(tokenReply(), { cache: store });
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    const other = createDaemonClient({
      authority: `${server.url}/${TENANT}`,
      clientId: CLIENT_ID,
      credential: testSecret(SECRET),
      cache: store,
    });
    const shared = await other.acquireTokenForClient({ scopes: [SCOPE] });
    expect(shared).toMatchObject({ source: "shared-cache", accessToken: first.accessToken });
    const gets = store.gets;
    await other.acquireTokenForClient({ scopes: [SCOPE] });
    expect(store.gets).toBe(gets);
    expect(server.tokenRequests).toHaveLength(1);
  });

  it("ignores corrupt or foreign entries and overwrites them", async () => {
    const store = mapStore();
    const { server, client } = await setup(tokenReply(), { cache: store });
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    const [key] = store.data.keys();
    for (const junk of ["{", "null", '{"v":1}', JSON.stringify({ v: 1, accessToken: "x", tenantId: "other" })]) {
      store.data.set(key!, junk);
      client.clearCache();
      const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
      expect(result.source).toBe("network");
      expect(store.data.get(key!)).toContain(result.accessToken);
    }
    expect(server.tokenRequests).toHaveLength(5);
  });

  it("keeps working through the network when the store fails, and logs it once", async () => {
    const failing: TokenCacheStore = {
      name: "broken",
      get: () => Promise.reject(new Error("ECONNREFUSED")),
      set: () => Promise.reject(new Error("ECONNREFUSED")),
      delete: () => Promise.reject(new Error("ECONNREFUSED")),
      lock: () => Promise.reject(new Error("ECONNREFUSED")),
    };
    const { client, logs } = await setup(tokenReply(), { cache: failing });
    await client.acquireTokenForClient({ scopes: [SCOPE] });
    await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: "t2.example.com" });
    expect(logs.filter((l) => /shared token cache is unavailable/.test(l.message))).toHaveLength(1);
  });
});

describe("secret hygiene", () => {
  it("keeps secrets and tokens out of inspect, JSON and logs", async () => {
    const { client, logs } = await setup(tokenReply());
    const result = await client.acquireTokenForClient({ scopes: [SCOPE] });
    const outputs = [inspect(client, { depth: Infinity, showHidden: true }), JSON.stringify(client), (client as { toString(): string }).toString(), JSON.stringify(logs)];
    for (const output of outputs) {
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain(result.accessToken);
    }
  });
});

import { request } from "node:http";
import { inspect } from "node:util";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSidecar, readOrCreateHeaderFile, startSidecar, type RunningSidecar, type SidecarLogRecord, type SidecarOptions } from "../src/index.js";

const HEADER = "sidecar-test-header-0123456789abcdef";
const SCOPE = ids.apiScope;
const RESOURCE = ids.apiIdentifierUri;
const OTHER_TENANT = "44444444-4444-4444-8444-444444444444";

let emulator: Emulator;
const running: RunningSidecar[] = [];

beforeAll(async () => {
  const config = demoEmulatorConfig();
  // Multi-tenant (daemon and API), so a second tenant can consent and tenant= has somewhere to go.
  config.applications = config.applications.map((app) => ({ ...app, multiTenant: true }));
  emulator = await startEmulator({ config });
  emulator.addTenant({ id: OTHER_TENANT, domains: ["fabrikam.example"] });
  emulator.grant({ tenant: OTHER_TENANT, clientId: ids.daemonClientId, resource: RESOURCE, roles: ["Orders.Read.All"] });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((sidecar) => sidecar.close()));
  emulator.faults.clear();
});

afterAll(async () => {
  await emulator?.close();
});

/** A sidecar for the demo daemon, with every log record kept. */
async function sidecar(overrides: Partial<SidecarOptions> = {}, secret: string = ids.daemonClientSecret): Promise<RunningSidecar & { logs: SidecarLogRecord[] }> {
  const logs: SidecarLogRecord[] = [];
  const started = await startSidecar({
    client: { tenantId: ids.tenantId, clientId: ids.daemonClientId, authorityHost: emulator.url, credential: clientSecret(secret) },
    header: HEADER,
    allowScopes: [SCOPE],
    log: (record) => logs.push(record),
    ...overrides,
  });
  running.push(started);
  return Object.assign(started, { logs });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

/** A GET with exactly these headers (node:http, so no client adds headers of its own). */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // /metrics is text
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, text });
      });
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

const withHeader = { "X-IDENTITY-HEADER": HEADER };
const msi = (base: string, query = `api-version=2019-08-01&resource=${encodeURIComponent(RESOURCE)}`) => `${base}/msi/token?${query}`;

function claimsOf(token: unknown): Record<string, unknown> {
  return JSON.parse(Buffer.from(String(token).split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

describe("App Service managed identity protocol", () => {
  it("answers { access_token, expires_on (epoch seconds, string), resource, token_type, client_id } as App Service does", async () => {
    const { url } = await sidecar();
    const answer = await get(msi(url), withHeader);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(["access_token", "client_id", "expires_on", "resource", "token_type"]);
    expect(answer.body).toMatchObject({ resource: RESOURCE, token_type: "Bearer", client_id: ids.daemonClientId });
    expect(answer.body["expires_on"]).toMatch(/^\d{10}$/);
    const claims = claimsOf(answer.body["access_token"]);
    expect(claims).toMatchObject({ aud: RESOURCE, tid: ids.tenantId, azp: ids.daemonClientId, roles: ["Orders.Read.All"] });
    // Counted from when the request was sent, as MSAL does: within seconds of the token's exp.
    expect(Math.abs(Number(answer.body["expires_on"]) - Number(claims["exp"]))).toBeLessThanOrEqual(5);
    expect(answer.headers["cache-control"]).toBe("no-store");
  });

  it("serves client_id naming the daemon's own app, and refuses another user-assigned identity with App Service's 400", async () => {
    const { url } = await sidecar();
    const base = `api-version=2019-08-01&resource=${encodeURIComponent(RESOURCE)}`;
    expect((await get(msi(url, `${base}&client_id=${ids.daemonClientId.toUpperCase()}`), withHeader)).status).toBe(200);
    const before = emulator.tokenRequestCount();
    for (const parameter of ["client_id=11111111-1111-4111-8111-111111111111", "principal_id=x", "object_id=x", "mi_res_id=/subscriptions/x"]) {
      const answer = await get(msi(url, `${base}&${parameter}`), withHeader);
      expect(answer.status, parameter).toBe(400);
      expect(answer.body).toEqual({ statusCode: 400, message: "Unable to load the proper Managed Identity.", correlationId: expect.stringMatching(/^[\da-f-]{36}$/) });
    }
    expect(emulator.tokenRequestCount()).toBe(before);
  });

  it("refuses another api-version and a missing resource with App Service's error shape", async () => {
    const { url } = await sidecar();
    const old = await get(msi(url, `api-version=2017-09-01&resource=${RESOURCE}`), withHeader);
    expect(old.status).toBe(400);
    expect(old.body).toMatchObject({ statusCode: 400, message: expect.stringContaining("2019-08-01") });
    expect((await get(msi(url, "api-version=2019-08-01"), withHeader)).body).toMatchObject({ statusCode: 400, message: expect.stringContaining("resource") });
  });

  it("relays a refusal of the token endpoint as a 400 with its AADSTS code, and counts it in /metrics", async () => {
    const { url } = await sidecar({}, "a-wrong-secret");
    const answer = await get(msi(url), withHeader);
    expect(answer.status).toBe(400);
    expect(answer.body["message"]).toContain("AADSTS7000215");
    expect(answer.text).not.toContain("a-wrong-secret");
    const metrics = (await get(`${url}/metrics`)).text;
    expect(metrics).toContain('daemon_auth_sidecar_upstream_requests_total{status="401",aadsts="7000215"} 1');
    expect(metrics).toContain('daemon_auth_sidecar_requests_total{endpoint="/msi/token",outcome="upstream_refused"} 1');
  });

  it("answers 429 with Retry-After while the token endpoint throttles", async () => {
    emulator.faults.add({ fault: { kind: "status", status: 429, retryAfter: 120 } });
    const { url } = await sidecar();
    const answer = await get(msi(url), withHeader);
    expect(answer.status).toBe(429);
    expect(Number(answer.headers["retry-after"])).toBeGreaterThan(100);
  });
});

describe("plain endpoint", () => {
  it("answers { accessToken, expiresOn, tokenType } and serves an allowed tenant", async () => {
    const { url } = await sidecar({ allowTenants: ["fabrikam.example"] });
    const answer = await get(`${url}/token?scope=${encodeURIComponent(SCOPE)}`, withHeader);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(["accessToken", "expiresOn", "tokenType"]);
    expect(answer.body["expiresOn"]).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(Math.abs(Date.parse(String(answer.body["expiresOn"])) / 1000 - Number(claimsOf(answer.body["accessToken"])["exp"]))).toBeLessThanOrEqual(5);
    const other = await get(`${url}/token?scope=${encodeURIComponent(SCOPE)}&tenant=fabrikam.example`, withHeader);
    expect(other.status).toBe(200);
    expect(claimsOf(other.body["accessToken"])["tid"]).toBe(OTHER_TENANT);
  });

  it("rejects zero or two scopes", async () => {
    const { url } = await sidecar();
    expect((await get(`${url}/token`, withHeader)).status).toBe(400);
    expect((await get(`${url}/token?scope=${SCOPE}&scope=${SCOPE}`, withHeader)).status).toBe(400);
  });
});

describe("refusals", () => {
  it("refuses a missing or wrong header with 401 'unauthorized' only, and sends no token request", async () => {
    const { url, logs } = await sidecar();
    const before = emulator.tokenRequestCount();
    for (const headers of [{}, { "X-IDENTITY-HEADER": "wrong" }, { "X-IDENTITY-HEADER": `${HEADER}x` }, { "X-IDENTITY-HEADER": HEADER.slice(0, -1) }]) {
      for (const target of [msi(url), `${url}/token?scope=${SCOPE}`]) {
        const answer = await get(target, headers);
        expect(answer.status).toBe(401);
        expect(answer.body["message"]).toBe("unauthorized");
        expect(answer.text).not.toContain("access_token");
        expect(answer.text).not.toContain("accessToken");
      }
    }
    expect(emulator.tokenRequestCount()).toBe(before);
    expect(JSON.stringify(logs)).not.toContain(HEADER);
  });

  it("refuses a scope or tenant that is not allowed, with a clear error and no token request", async () => {
    const { url } = await sidecar();
    const before = emulator.tokenRequestCount();
    const scope = await get(`${url}/token?scope=${encodeURIComponent("https://graph.microsoft.com/.default")}`, withHeader);
    expect(scope.status).toBe(403);
    expect(scope.body).toMatchObject({ error: "scope_not_allowed", message: expect.stringContaining("--allow-scope") });
    const resource = await get(msi(url, "api-version=2019-08-01&resource=https://graph.microsoft.com"), withHeader);
    expect(resource.status).toBe(403);
    expect(resource.body).toMatchObject({ statusCode: 403, message: expect.stringContaining("--allow-scope https://graph.microsoft.com/.default") });
    const tenant = await get(`${url}/token?scope=${encodeURIComponent(SCOPE)}&tenant=fabrikam.example`, withHeader);
    expect(tenant.status).toBe(403);
    expect(tenant.body).toMatchObject({ error: "tenant_not_allowed", message: expect.stringContaining("--allow-tenant") });
    expect(emulator.tokenRequestCount()).toBe(before);
  });

  it("refuses requests relayed by a proxy (X-Forwarded-For, Forwarded) or sent by a browser (Origin, Sec-Fetch-Site), header or not", async () => {
    const { url } = await sidecar();
    const before = emulator.tokenRequestCount();
    for (const extra of [{ "X-Forwarded-For": "203.0.113.9" }, { Forwarded: "for=203.0.113.9" }, { Origin: "http://evil.example" }, { "Sec-Fetch-Site": "cross-site" }]) {
      const answer = await get(msi(url), { ...withHeader, ...extra });
      expect(answer.status, JSON.stringify(extra)).toBe(403);
      expect(answer.text).not.toContain("access_token");
    }
    expect(emulator.tokenRequestCount()).toBe(before);
  });

  it("refuses a Host header that is not loopback (DNS rebinding)", async () => {
    const { url } = await sidecar();
    expect((await get(msi(url), { ...withHeader, Host: "rebound.evil.example" })).status).toBe(403);
    expect((await get(msi(url), { ...withHeader, Host: "localhost" })).status).toBe(200);
  });

  it("will not listen on a non-loopback address unless allowRemote is set", () => {
    const options = { client: { tenantId: ids.tenantId, clientId: ids.daemonClientId, credential: clientSecret("x") }, header: HEADER, allowScopes: [SCOPE] };
    for (const host of ["0.0.0.0", "::", "192.0.2.10", "sidecar.example"]) {
      expect(() => createSidecar({ ...options, host })).toThrow(/allowRemote \/ --allow-remote/);
    }
    expect(() => createSidecar({ ...options, host: "::1" })).not.toThrow();
  });

  it("refuses a weak header secret and a scope that is not <resource>/.default", () => {
    const client = { tenantId: ids.tenantId, clientId: ids.daemonClientId, credential: clientSecret("x") };
    expect(() => createSidecar({ client, header: "short", allowScopes: [SCOPE] })).toThrow(/openssl rand/);
    expect(() => createSidecar({ client, header: HEADER, allowScopes: [] })).toThrow(/allow at least one/);
    expect(() => createSidecar({ client, header: HEADER, allowScopes: ["User.Read"] })).toThrow(/not valid/);
  });
});

describe("operations", () => {
  it("/healthz is live; /readyz turns ready once a token can be obtained, and 503 while it cannot", async () => {
    emulator.faults.add({ fault: { kind: "status", status: 400, aadsts: 700016 } });
    const { url } = await sidecar();
    expect((await get(`${url}/healthz`)).status).toBe(200);
    expect((await get(`${url}/readyz`)).status).toBe(503);
    emulator.faults.clear();
    // The refusal is remembered briefly (errorCacheMs): a fresh sidecar shows the probe turning ready.
    const second = await sidecar();
    expect((await get(`${second.url}/readyz`)).status).toBe(200);
  });

  it("logs one access record per request — caller, scope, outcome, cache source, latency — and never a token or the header", async () => {
    const { url, logs } = await sidecar();
    const first = await get(msi(url), withHeader);
    await get(`${url}/token?scope=${encodeURIComponent(SCOPE)}`, withHeader);
    const access = logs.filter((record) => record.msg === "request");
    expect(access).toHaveLength(2);
    expect(access[0]).toMatchObject({ caller: "127.0.0.1", endpoint: "/msi/token", scope: SCOPE, outcome: "ok", source: "network", status: 200, latencyMs: expect.any(Number) });
    expect(access[1]).toMatchObject({ endpoint: "/token", source: "cache" });
    const text = JSON.stringify(logs);
    expect(text).not.toContain(String(first.body["access_token"]));
    expect(text).not.toContain(HEADER);
    expect(text).not.toContain(ids.daemonClientSecret);
  });

  it("exposes requests by outcome, tokens by source, upstream requests by status and latency in Prometheus text", async () => {
    const { url } = await sidecar();
    await get(msi(url), withHeader);
    await get(msi(url), withHeader);
    await get(msi(url));
    const answer = await get(`${url}/metrics`);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.text).toContain('daemon_auth_sidecar_requests_total{endpoint="/msi/token",outcome="ok"} 2');
    expect(answer.text).toContain('daemon_auth_sidecar_requests_total{endpoint="/msi/token",outcome="unauthorized"} 1');
    expect(answer.text).toContain('daemon_auth_sidecar_tokens_served_total{source="network"} 1');
    expect(answer.text).toContain('daemon_auth_sidecar_tokens_served_total{source="cache"} 1');
    expect(answer.text).toContain('daemon_auth_sidecar_upstream_requests_total{status="200",aadsts="none"} 1');
    expect(answer.text).toContain('daemon_auth_sidecar_upstream_duration_seconds_count{status="200"} 1');
  });

  it("answers the requests in flight when closed, then stops listening", async () => {
    emulator.faults.add({ fault: { kind: "latency", ms: 400 }, times: 1 });
    const started = await sidecar();
    const inFlight = get(msi(started.url), withHeader);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = started.close();
    expect((await inFlight).status).toBe(200);
    await closing;
    await expect(get(`${started.url}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("secrets in objects", () => {
  it("neither the header nor the client secret shows in util.inspect or JSON.stringify of the sidecar", async () => {
    const options = { client: { tenantId: ids.tenantId, clientId: ids.daemonClientId, authorityHost: emulator.url, credential: clientSecret(ids.daemonClientSecret) }, header: HEADER, allowScopes: [SCOPE] };
    const created = createSidecar(options);
    const started = await created.listen();
    running.push(started);
    for (const value of [created, started]) {
      for (const text of [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value)]) {
        expect(text).not.toContain(HEADER);
        expect(text).not.toContain(ids.daemonClientSecret);
      }
    }
  });
});

describe("header file", () => {
  it("creates a random secret in a new 0600 file, and reads it back the next time", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sidecar-header-"));
    try {
      const path = join(dir, "nested", "header");
      const created = await readOrCreateHeaderFile(path);
      expect(created.created).toBe(true);
      expect(created.secret).toMatch(/^[\da-f]{64}$/);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(await readOrCreateHeaderFile(path)).toEqual({ secret: created.secret, created: false });
      await writeFile(path, "short\n");
      await expect(readOrCreateHeaderFile(path)).rejects.toThrow(/shorter than 16/);
      expect(await readFile(path, "utf8")).toBe("short\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

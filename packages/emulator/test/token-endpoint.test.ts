/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON bodies are inspected loosely in tests */
import { inspect } from "node:util";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../src/index.js";
import { CONTOSO, DAEMON, FABRIKAM, ISV, ISV_SECRET, LEGACY_API, LONELY, ORDERS_API, SECRET, postToken, secretForm, testConfig } from "./helpers.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let now = Date.parse("2030-06-01T12:00:00Z");
let emulator: Emulator;
const logLines: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ config: testConfig(), clock: () => now, log: (line) => logLines.push(line) });
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  now = Date.parse("2030-06-01T12:00:00Z");
  emulator.resetRequests();
});

/** Asserts the exact Entra error shape and returns the body. */
async function expectError(
  call: Promise<{ status: number; headers: Headers; body: Record<string, any> }>,
  status: number,
  error: string,
  code: number,
): Promise<Record<string, any>> {
  const { status: actual, body, headers } = await call;
  expect({ status: actual, error: body.error, codes: body.error_codes }).toEqual({ status, error, codes: [code] });
  expect(Object.keys(body).sort()).toEqual(["correlation_id", "error", "error_codes", "error_description", "error_uri", "timestamp", "trace_id"]);
  expect(body.error_description).toMatch(new RegExp(`^AADSTS${code}: .+\\r\\nTrace ID: ${body.trace_id}\\r\\nCorrelation ID: ${body.correlation_id}\\r\\nTimestamp: ${body.timestamp}$`, "s"));
  expect(body.timestamp).toBe(new Date(now).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"));
  expect(body.trace_id).toMatch(GUID);
  expect(body.correlation_id).toMatch(GUID);
  expect(body.error_uri).toBe(`${emulator.url}/error?code=${code}`);
  expect(headers.get("cache-control")).toContain("no-store");
  return body;
}

describe("successful token requests", () => {
  it("issues a v2.0 app-only RS256 JWT verifiable with the published JWKS", async () => {
    const { status, body, headers } = await postToken(emulator, CONTOSO, secretForm());
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toContain("no-store");
    expect(headers.get("content-type")).toContain("application/json");
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "ext_expires_in", "token_type"]);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 });

    const jwks = createRemoteJWKSet(new URL(emulator.jwksUri(CONTOSO)));
    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, {
      issuer: emulator.issuer(CONTOSO),
      audience: "api://orders",
      currentDate: new Date(now),
      algorithms: ["RS256"],
    });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(protectedHeader.kid).toBeTypeOf("string");
    const iat = Math.floor(now / 1000);
    expect(payload).toMatchObject({
      aud: "api://orders",
      iss: `${emulator.url}/${CONTOSO}/v2.0`,
      tid: CONTOSO,
      azp: DAEMON,
      appid: DAEMON,
      azpacr: "1",
      idtyp: "app",
      ver: "2.0",
      iat,
      nbf: iat,
      exp: iat + 3599,
      roles: ["Orders.Read.All", "Orders.Write.All"],
    });
    expect(payload.oid).toMatch(GUID);
    expect(payload.sub).toBe(payload.oid);
    expect(payload.uti).toBeTypeOf("string");
  });

  it("keeps oid stable per app and tenant, different across tenants", async () => {
    const a = decodeJwt((await postToken(emulator, CONTOSO, secretForm())).body.access_token);
    const b = decodeJwt((await postToken(emulator, "contoso.example", secretForm())).body.access_token);
    const isvHome = decodeJwt((await postToken(emulator, CONTOSO, secretForm({ client_id: ISV, client_secret: ISV_SECRET }))).body.access_token);
    const isvCustomer = decodeJwt((await postToken(emulator, FABRIKAM, secretForm({ client_id: ISV, client_secret: ISV_SECRET }))).body.access_token);
    expect(a.oid).toBe(b.oid);
    expect(isvHome.oid).not.toBe(isvCustomer.oid);
    expect(a.uti).not.toBe(b.uti);
  });

  it("accepts tenants by any domain, case-insensitively, and issues for the tenant id", async () => {
    for (const tenant of ["contoso.onmicrosoft.com", "CONTOSO.example", CONTOSO.toUpperCase()]) {
      const { status, body } = await postToken(emulator, tenant, secretForm());
      expect(status).toBe(200);
      expect(decodeJwt(body.access_token)).toMatchObject({ tid: CONTOSO, iss: emulator.issuer(CONTOSO) });
    }
  });

  it("accepts client_secret_basic with form-urlencoded credentials (RFC 6749 §2.3.1)", async () => {
    emulator.addSecret(DAEMON, { value: "p@ss word:+/=%" });
    const encoded = `${encodeURIComponent(DAEMON)}:${encodeURIComponent("p@ss word:+/=%").replace(/%20/g, "+")}`;
    const { status, body } = await postToken(emulator, CONTOSO, secretForm({ client_id: undefined, client_secret: undefined }), {
      authorization: `Basic ${Buffer.from(encoded).toString("base64")}`,
    });
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token).azp).toBe(DAEMON);
    expect(emulator.requests.at(-1)).toMatchObject({ clientAuth: "secret_basic", clientId: DAEMON, status: 200 });
    emulator.removeSecret(DAEMON, "p@ss word:+/=%");
  });

  it("serves a v1.0 resource requested with //.default (audience keeps its trailing slash)", async () => {
    emulator.grant({ tenant: CONTOSO, clientId: DAEMON, resource: "https://x.example/", roles: ["Legacy.Use"] });
    const { status, body } = await postToken(emulator, CONTOSO, secretForm({ scope: "https://x.example//.default" }));
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: "https://x.example/", roles: ["Legacy.Use"] });
  });

  it("uses the client id as audience for a resource named by its client id, and omits roles when none are granted", async () => {
    const { status, body } = await postToken(emulator, CONTOSO, secretForm({ scope: `${LEGACY_API.toUpperCase()}/.default`, client_id: ISV, client_secret: ISV_SECRET }));
    expect(status).toBe(200);
    const claims = decodeJwt(body.access_token);
    expect(claims.aud).toBe(LEGACY_API);
    expect(claims).not.toHaveProperty("roles");
  });

  it("sends refresh_in and a custom lifetime when configured, timed by the injected clock", async () => {
    const custom = await startEmulator({ config: testConfig(), tokenLifetimeSeconds: 7200, refreshInSeconds: 3600, clock: () => now });
    try {
      const { body } = await postToken(custom, CONTOSO, secretForm());
      expect(body).toMatchObject({ expires_in: 7200, ext_expires_in: 7200, refresh_in: 3600 });
      expect(decodeJwt(body.access_token).exp).toBe(Math.floor(now / 1000) + 7200);
    } finally {
      await custom.close();
    }
  });

  it("echoes client-request-id as correlation id, and generates one otherwise", async () => {
    const id = "5b1b6f7e-4c1d-4f0a-9a3b-2c4d6e8f0a1b";
    const ok = await postToken(emulator, CONTOSO, secretForm(), { "client-request-id": id });
    expect(ok.headers.get("client-request-id")).toBe(id);
    const failed = await postToken(emulator, CONTOSO, secretForm({ client_secret: "nope" }), { "client-request-id": id });
    expect(failed.body.correlation_id).toBe(id);
    const generated = await postToken(emulator, CONTOSO, secretForm({ client_secret: "nope" }));
    expect(generated.body.correlation_id).toMatch(GUID);
    expect(generated.body.correlation_id).not.toBe(id);
  });
});

describe("Entra errors", () => {
  it("unsupported or missing grant type", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ grant_type: "password" })), 400, "unsupported_grant_type", 70003);
    await expectError(postToken(emulator, CONTOSO, secretForm({ grant_type: undefined })), 400, "invalid_request", 900144);
  });

  it("scope missing or naming no resource (70011)", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ scope: undefined })), 400, "invalid_scope", 70011);
    await expectError(postToken(emulator, CONTOSO, secretForm({ scope: "/.default" })), 400, "invalid_scope", 70011);
  });

  it("scope without /.default (1002012, as Entra answers a client credentials request)", async () => {
    const body = await expectError(postToken(emulator, CONTOSO, secretForm({ scope: "api://orders/Orders.Read.All" })), 400, "invalid_scope", 1002012);
    expect(body.error_description).toMatch(/^AADSTS1002012: The provided value for scope api:\/\/orders\/Orders\.Read\.All is not valid\. Client credential flows must have a scope value with \/\.default suffixed/);
    await expectError(postToken(emulator, CONTOSO, secretForm({ scope: "api://orders/.default openid" })), 400, "invalid_scope", 1002012);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 400, errorCodes: [1002012], scope: "api://orders/.default openid" });
  });

  it("more than one resource (700022)", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ scope: "api://orders/.default https://x.example//.default" })), 400, "invalid_scope", 700022);
  });

  it("unknown application (700016)", async () => {
    const body = await expectError(postToken(emulator, CONTOSO, secretForm({ client_id: "aaaaaaaa-9999-4999-8999-999999999999" })), 400, "unauthorized_client", 700016);
    expect(body.error_description).toContain("aaaaaaaa-9999-4999-8999-999999999999");
  });

  it("application not provisioned in the tenant (700016): single-tenant, or multi-tenant without consent", async () => {
    await expectError(postToken(emulator, FABRIKAM, secretForm()), 400, "unauthorized_client", 700016);
    await expectError(postToken(emulator, LONELY, secretForm({ client_id: ISV, client_secret: ISV_SECRET })), 400, "unauthorized_client", 700016);
  });

  it("wrong secret, or the secret id instead of its value (7000215, 401)", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ client_secret: "wrong" })), 401, "invalid_client", 7000215);
    await expectError(postToken(emulator, CONTOSO, secretForm({ client_secret: "secret-id-1" })), 401, "invalid_client", 7000215);
  });

  it("expired secret (7000222), following the injected clock", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ client_secret: "expired-secret" })), 401, "invalid_client", 7000222);
    emulator.addSecret(DAEMON, { value: "short-lived", expiresAt: "2030-06-01T13:00:00Z" });
    expect((await postToken(emulator, CONTOSO, secretForm({ client_secret: "short-lived" }))).status).toBe(200);
    now = Date.parse("2030-06-01T13:00:01Z");
    await expectError(postToken(emulator, CONTOSO, secretForm({ client_secret: "short-lived" })), 401, "invalid_client", 7000222);
    emulator.removeSecret(DAEMON, "short-lived");
  });

  it("missing credential (7000218)", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ client_secret: undefined })), 401, "invalid_client", 7000218);
    expect(emulator.requests.at(-1)).toMatchObject({ clientAuth: "none", errorCodes: [7000218] });
  });

  it("missing client_id (900144), repeated parameters and two auth methods (9002313)", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ client_id: undefined })), 400, "invalid_request", 900144);
    const response = await fetch(emulator.tokenEndpoint(CONTOSO), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `${new URLSearchParams(secretForm()).toString()}&scope=api%3A%2F%2Forders%2F.default`,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error_codes: number[] }).error_codes).toEqual([9002313]);
    const basic = `Basic ${Buffer.from(`${DAEMON}:${SECRET}`).toString("base64")}`;
    await expectError(postToken(emulator, CONTOSO, secretForm(), { authorization: basic }), 400, "invalid_request", 9002313);
  });

  it("unknown tenant (90002) and malformed tenant (900023)", async () => {
    await expectError(postToken(emulator, "99999999-9999-4999-8999-999999999999", secretForm()), 400, "invalid_request", 90002);
    await expectError(postToken(emulator, "nowhere.example", secretForm()), 400, "invalid_request", 90002);
    await expectError(postToken(emulator, "not a tenant!", secretForm()), 400, "invalid_request", 900023);
  });

  it("common, organizations and consumers are refused for client credentials (50059)", async () => {
    for (const tenant of ["common", "organizations", "Consumers"]) {
      await expectError(postToken(emulator, tenant, secretForm()), 400, "invalid_request", 50059);
    }
  });

  it("resource principal not found in the tenant (500011)", async () => {
    await expectError(postToken(emulator, CONTOSO, secretForm({ scope: "api://unknown/.default" })), 400, "invalid_resource", 500011);
    // The ISV is consented in Fabrikam, but the single-tenant legacy API exists only in Contoso.
    await expectError(
      postToken(emulator, FABRIKAM, secretForm({ client_id: ISV, client_secret: ISV_SECRET, scope: "https://x.example//.default" })),
      400,
      "invalid_resource",
      500011,
    );
  });

  it("GET on the token endpoint (900561)", async () => {
    const response = await fetch(emulator.tokenEndpoint(CONTOSO));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error_codes: number[] }).error_codes).toEqual([900561]);
  });
});

describe("run-time changes", () => {
  it("rotates secrets: a new secret works at once, a removed one fails", async () => {
    emulator.addSecret(DAEMON, { value: "rotated-secret" });
    expect((await postToken(emulator, CONTOSO, secretForm({ client_secret: "rotated-secret" }))).status).toBe(200);
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(200);
    emulator.removeSecret(DAEMON, SECRET);
    await expectError(postToken(emulator, CONTOSO, secretForm()), 401, "invalid_client", 7000215);
    emulator.removeSecret(DAEMON, "rotated-secret");
    emulator.addSecret(DAEMON, { value: SECRET, id: "secret-id-1" });
    expect(() => emulator.removeSecret(DAEMON, "never-added")).toThrow(/no such secret/);
  });

  it("grants and revokes admin consent; revoking a multi-tenant app's last grant removes its service principal", async () => {
    emulator.grant({ tenant: CONTOSO, clientId: DAEMON, resource: ORDERS_API, roles: ["Orders.Admin"] });
    let claims = decodeJwt((await postToken(emulator, CONTOSO, secretForm())).body.access_token);
    expect(claims.roles).toEqual(["Orders.Admin", "Orders.Read.All", "Orders.Write.All"]);
    emulator.revoke({ tenant: CONTOSO, clientId: DAEMON, resource: "api://orders" });
    claims = decodeJwt((await postToken(emulator, CONTOSO, secretForm())).body.access_token);
    expect(claims).not.toHaveProperty("roles");
    emulator.grant({ tenant: CONTOSO, clientId: DAEMON, resource: "api://orders", roles: ["Orders.Read.All", "Orders.Write.All"] });

    const isv = secretForm({ client_id: ISV, client_secret: ISV_SECRET });
    expect((await postToken(emulator, LONELY, isv)).status).toBe(400);
    emulator.grant({ tenant: LONELY, clientId: ISV, resource: "api://orders", roles: ["Orders.Read.All"] });
    const consented = await postToken(emulator, LONELY, isv);
    expect(consented.status).toBe(200);
    expect(decodeJwt(consented.body.access_token)).toMatchObject({ tid: LONELY, roles: ["Orders.Read.All"] });
    emulator.revoke({ tenant: LONELY, clientId: ISV });
    await expectError(postToken(emulator, LONELY, isv), 400, "unauthorized_client", 700016);
  });

  it("adds tenants and applications", async () => {
    const tenant = "44444444-4444-4444-8444-444444444444";
    const client = "aaaaaaaa-0000-4000-8000-000000000099";
    emulator.addTenant({ id: tenant, domains: ["new.example"] });
    emulator.addApplication({ clientId: client, homeTenant: "new.example", secrets: [{ value: "s" }] });
    emulator.addApplication({ clientId: "aaaaaaaa-0000-4000-8000-000000000098", homeTenant: tenant, identifierUris: ["api://new"], appRoles: [{ value: "New.All" }] });
    emulator.grant({ tenant, clientId: client, resource: "api://new", roles: ["New.All"] });
    const { status, body } = await postToken(emulator, "new.example", secretForm({ client_id: client, client_secret: "s", scope: "api://new/.default" }));
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token)).toMatchObject({ tid: tenant, roles: ["New.All"] });
  });
});

describe("request log", () => {
  it("counts token endpoint POSTs by client, tenant (id or domain) and scope", async () => {
    await postToken(emulator, CONTOSO, secretForm());
    await postToken(emulator, "contoso.onmicrosoft.com", secretForm());
    await postToken(emulator, CONTOSO, secretForm({ client_secret: "wrong" }));
    await postToken(emulator, FABRIKAM, secretForm({ client_id: ISV, client_secret: ISV_SECRET }));
    await fetch(`${emulator.url}/${CONTOSO}/v2.0/.well-known/openid-configuration`);
    expect(emulator.tokenRequestCount()).toBe(4);
    expect(emulator.tokenRequestCount({ clientId: DAEMON })).toBe(3);
    expect(emulator.tokenRequestCount({ clientId: DAEMON.toUpperCase(), tenant: "contoso.example" })).toBe(3);
    expect(emulator.tokenRequestCount({ tenant: "fabrikam.onmicrosoft.com" })).toBe(1);
    expect(emulator.tokenRequestCount({ scope: "api://orders/.default", clientId: ISV })).toBe(1);
    expect(emulator.tokenRequestCount({ scope: "api://other/.default" })).toBe(0);
    expect(emulator.requests).toHaveLength(5);
    expect(emulator.requests[2]).toMatchObject({
      method: "POST",
      path: `/${CONTOSO}/oauth2/v2.0/token`,
      tenant: CONTOSO,
      clientId: DAEMON,
      scope: "api://orders/.default",
      status: 401,
      errorCodes: [7000215],
      grantType: "client_credentials",
      clientAuth: "secret_post",
      at: now,
    });
    emulator.resetRequests();
    expect(emulator.requests).toHaveLength(0);
    expect(emulator.tokenRequestCount()).toBe(0);
  });

  it("never exposes secrets or tokens in log lines or recorded requests", async () => {
    logLines.length = 0;
    const ok = await postToken(emulator, CONTOSO, secretForm());
    await postToken(emulator, CONTOSO, secretForm({ client_secret: "wrong-secret-value" }));
    const recorded = JSON.stringify(emulator.requests) + inspect(emulator.requests, { depth: 5 });
    const logged = logLines.join("\n");
    expect(logLines.length).toBeGreaterThanOrEqual(2);
    expect(logged).toContain("AADSTS7000215");
    for (const leak of [SECRET, "wrong-secret-value", ok.body.access_token, ok.body.access_token.split(".")[2]]) {
      expect(recorded).not.toContain(leak);
      expect(logged).not.toContain(leak);
    }
  });
});

describe("lifecycle", () => {
  it("closes keep-alive connections and is safe to close twice", async () => {
    const temporary = await startEmulator({ config: testConfig() });
    const response = await fetch(temporary.jwksUri(CONTOSO), { keepalive: true });
    expect(decodeProtectedHeader((await postToken(temporary, CONTOSO, secretForm())).body.access_token).kid).toBe(
      ((await response.json()) as { keys: { kid: string }[] }).keys[0]!.kid,
    );
    await Promise.all([temporary.close(), temporary.close()]);
    await temporary.close();
    await expect(fetch(temporary.jwksUri(CONTOSO))).rejects.toThrow();
  });
});

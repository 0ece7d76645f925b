/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON bodies are inspected loosely in tests */
// The IMDS and App Service endpoints on the wire: their answers, the platforms' error
// answers, token claims, fault injection on their paths, and a request log that never
// shows the identity header or a token.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { decodeJwt, jwtVerify, createLocalJWKSet } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../src/index.js";
import { CONTOSO } from "./helpers.js";
import { managedIdentityConfig, SYSTEM_MI, USER_MI } from "./managed-identity-helpers.js";

let emulator: Emulator;
const logLines: string[] = [];
let header: string;

beforeAll(async () => {
  emulator = await startEmulator({ config: managedIdentityConfig(), log: (line) => logLines.push(line) });
  header = emulator.managedIdentityEnvironment("app-service").IDENTITY_HEADER!;
});

afterAll(async () => {
  await emulator?.close();
});

beforeEach(() => {
  emulator.faults.clear();
});

interface Call {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

async function call(path: string, query: Record<string, string>, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Call> {
  const response = await fetch(`${emulator.url}${path}?${new URLSearchParams(query).toString()}`, { headers, ...init });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

const imds = (query: Record<string, string>, headers: Record<string, string> = { Metadata: "true" }): Promise<Call> =>
  call("/metadata/identity/oauth2/token", { "api-version": "2018-02-01", ...query }, headers);
const appService = (query: Record<string, string>, headers: Record<string, string> = { "X-IDENTITY-HEADER": header }): Promise<Call> =>
  call("/msi/token", { "api-version": "2019-08-01", ...query }, headers);

describe("IMDS", () => {
  it("answers the system-assigned identity's token with IMDS's fields, numbers as strings", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, headers, body } = await imds({ resource: "api://orders" });
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toContain("no-store");
    expect(Object.keys(body).sort()).toEqual(["access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type"]);
    expect(body).toMatchObject({ client_id: SYSTEM_MI.clientId, expires_in: "3599", ext_expires_in: "3599", resource: "api://orders", token_type: "Bearer" });
    expect(Number(body.expires_on) - Number(body.not_before)).toBe(3599);
    expect(Number(body.not_before)).toBeGreaterThanOrEqual(before);
    const jwks = (await (await fetch(emulator.jwksUri(CONTOSO))).json()) as any;
    const { payload, protectedHeader } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), { issuer: emulator.issuer(CONTOSO), audience: "api://orders" });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(payload).toMatchObject({ oid: SYSTEM_MI.objectId, sub: SYSTEM_MI.objectId, appid: SYSTEM_MI.clientId, azp: SYSTEM_MI.clientId, idtyp: "app", tid: CONTOSO, roles: ["Orders.Read.All"], ver: "2.0" });
    expect(payload.xms_mirid).toBeUndefined();
  });

  it.each([
    ["client_id", USER_MI.clientId.toUpperCase()],
    ["object_id", USER_MI.objectId],
    ["msi_res_id", USER_MI.resourceId.toLowerCase()],
  ])("selects the user-assigned identity by %s", async (name, value) => {
    const { status, body } = await imds({ resource: "api://orders/.default", [name]: value });
    expect(status).toBe(200);
    expect(body.client_id).toBe(USER_MI.clientId);
    expect(body.resource).toBe("api://orders/.default");
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: "api://orders", oid: USER_MI.objectId, xms_mirid: USER_MI.resourceId, roles: ["Orders.Write.All"] });
  });

  it("names the resource by client id as Entra does, and omits roles when none are granted", async () => {
    const { body } = await imds({ resource: "https://x.example/" });
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: "https://x.example/" });
    expect(decodeJwt(body.access_token).roles).toBeUndefined();
  });

  it.each([
    ["no Metadata header", {}, {}, 400, "Required metadata header not specified"],
    ["Metadata: false", {}, { Metadata: "false" }, 400, "Required metadata header not specified"],
    ["no api-version", { "api-version": "" }, undefined, 400, "Required query variable 'api-version' is missing"],
    ["an api-version before 2018-02-01", { "api-version": "2017-09-01" }, undefined, 400, "Invalid version"],
    ["no resource", {}, undefined, 400, "Required query variable 'resource' is missing"],
    ["an unknown client_id", { client_id: "eeeeeeee-0000-4000-8000-000000000009" }, undefined, 400, "Identity not found"],
    ["two identity parameters", { client_id: USER_MI.clientId, object_id: USER_MI.objectId }, undefined, 400, "Specify at most one of client_id, object_id and msi_res_id"],
  ])("refuses %s as IMDS does", async (_name, query: Record<string, string>, headers: Record<string, string> | undefined, status, description) => {
    const resource = "resource" in query || _name === "no resource" ? {} : { resource: "api://orders" };
    const answer = await imds({ ...resource, ...query }, headers);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe("invalid_request");
    expect(answer.body.error_description).toMatch(new RegExp(`^${description}`));
  });

  it("relays Entra's AADSTS500011 for a resource that is not registered in the identity's tenant", async () => {
    const { status, body } = await imds({ resource: "api://unknown" });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_resource", error_codes: [500011] });
    expect(body.error_description).toMatch(/^AADSTS500011: The resource principal named api:\/\/unknown was not found/);
  });

  it("serves the token exchange audience without a registered app", async () => {
    const { status, body } = await imds({ resource: "api://AzureADTokenExchange" });
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: "api://AzureADTokenExchange", sub: SYSTEM_MI.objectId });
  });

  it("answers only GET", async () => {
    const response = await fetch(`${emulator.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://orders`, { method: "POST", headers: { Metadata: "true" } });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET");
  });

  it("uses the only user-assigned identity when there is no system-assigned one, and needs a choice among several", async () => {
    const config = managedIdentityConfig();
    const user = config.managedIdentities![1]!;
    const grants = config.grants!.filter((grant) => grant.clientId !== SYSTEM_MI.clientId);
    const second = { ...user, clientId: "bbbbbbbb-0000-4000-8000-000000000003", objectId: "cccccccc-0000-4000-8000-000000000003", resourceId: `${user.resourceId!}-2` };
    const only = await startEmulator({ config: { ...config, grants, managedIdentities: [user] } });
    const several = await startEmulator({ config: { ...config, grants, managedIdentities: [user, second] } });
    const none = await startEmulator({ config: { ...config, grants: grants.filter((grant) => grant.clientId !== USER_MI.clientId), managedIdentities: [] } });
    const ask = (target: Emulator): Promise<Response> =>
      fetch(`${target.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://orders`, { headers: { Metadata: "true" } });
    try {
      expect(((await (await ask(only)).json()) as any).client_id).toBe(USER_MI.clientId);
      const ambiguous = await ask(several);
      expect(ambiguous.status).toBe(400);
      expect(((await ambiguous.json()) as any).error_description).toMatch(/^Multiple user assigned identities exist/);
      const missing = await ask(none);
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as any).error_description).toBe("Identity not found");
    } finally {
      await Promise.all([only.close(), several.close(), none.close()]);
    }
  });
});

describe("App Service", () => {
  it("answers App Service's fields with expires_on as epoch seconds in a string", async () => {
    const { status, body } = await appService({ resource: "api://orders" });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["access_token", "client_id", "expires_on", "resource", "token_type"]);
    expect(body).toMatchObject({ client_id: SYSTEM_MI.clientId, resource: "api://orders", token_type: "Bearer" });
    expect(body.expires_on).toMatch(/^\d{10}$/);
    expect(decodeJwt(body.access_token)).toMatchObject({ oid: SYSTEM_MI.objectId, exp: Number(body.expires_on) });
  });

  it.each([
    ["principal_id", USER_MI.objectId],
    ["object_id", USER_MI.objectId],
    ["mi_res_id", USER_MI.resourceId],
    ["client_id", USER_MI.clientId],
  ])("selects the user-assigned identity by %s", async (name, value) => {
    const { status, body } = await appService({ resource: "api://orders", [name]: value });
    expect(status).toBe(200);
    expect(body.client_id).toBe(USER_MI.clientId);
  });

  it.each([
    ["no X-IDENTITY-HEADER", { resource: "api://orders" }, {}, 401, /header is missing: send the value of IDENTITY_HEADER/],
    ["a wrong X-IDENTITY-HEADER", { resource: "api://orders" }, { "X-IDENTITY-HEADER": "guess" }, 401, /header does not match/],
    ["another api-version", { resource: "api://orders", "api-version": "2017-09-01" }, undefined, 400, /Only api-version=2019-08-01 is supported/],
    ["no resource", {}, undefined, 400, /The 'resource' parameter is required/],
    ["an unknown principal_id", { resource: "api://orders", principal_id: "eeeeeeee-0000-4000-8000-000000000009" }, undefined, 400, /^Unable to load the proper Managed Identity\.$/],
    ["an unknown resource", { resource: "api://unknown" }, undefined, 400, /^AADSTS500011: /],
  ])("refuses %s with App Service's error shape", async (_name, query: Record<string, string>, headers: Record<string, string> | undefined, status, message) => {
    const answer = await appService(query, headers);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ statusCode: status, message: expect.stringMatching(message), correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });
});

describe("fault injection on the managed identity paths", () => {
  const IMDS_PATH = /^\/metadata\/identity\/oauth2\/token\/?$/;

  it("answers 410 to IMDS requests for as many times as asked, then the token", async () => {
    const rule = emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "status", status: 410 }, times: 2 });
    expect((await imds({ resource: "api://orders" })).status).toBe(410);
    expect((await imds({ resource: "api://orders" })).status).toBe(410);
    expect((await imds({ resource: "api://orders" })).status).toBe(200);
    expect(rule.hits).toBe(2);
    expect(emulator.requests.filter((request) => request.fault === "status").at(-1)).toMatchObject({ path: "/metadata/identity/oauth2/token", status: 410 });
  });

  it("answers 429 with Retry-After and 500 on the App Service path, matched by its exact path", async () => {
    emulator.faults.add({ match: { path: "/msi/token" }, fault: { kind: "status", status: 429, retryAfter: 7 }, times: 1 });
    emulator.faults.add({ match: { path: "/msi/token" }, fault: { kind: "status", status: 500 }, times: 1 });
    const throttled = await appService({ resource: "api://orders" });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("7");
    expect((await appService({ resource: "api://orders" })).status).toBe(500);
    expect((await appService({ resource: "api://orders" })).status).toBe(200);
  });

  it("targets one identity by its client_id parameter", async () => {
    emulator.faults.add({ match: { path: IMDS_PATH, clientId: USER_MI.clientId }, fault: { kind: "status", status: 503 } });
    expect((await imds({ resource: "api://orders", client_id: USER_MI.clientId })).status).toBe(503);
    expect((await imds({ resource: "api://orders" })).status).toBe(200);
  });

  it("hangs an IMDS request until the client gives up", async () => {
    emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "hang" }, times: 1 });
    const request = fetch(`${emulator.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://orders`, { headers: { Metadata: "true" }, signal: AbortSignal.timeout(500) });
    await expect(request).rejects.toThrow(/timeout|aborted/i);
    for (let attempt = 0; attempt < 100 && emulator.requests.at(-1)?.fault !== "hang"; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(emulator.requests.at(-1)).toMatchObject({ fault: "hang" });
    expect((await imds({ resource: "api://orders" })).status).toBe(200);
  });

  it("leaves token endpoint rules (no match.path) off the managed identity paths", async () => {
    emulator.faults.add({ fault: { kind: "status", status: 500 } });
    expect((await imds({ resource: "api://orders" })).status).toBe(200);
  });
});

describe("the request log", () => {
  it("records the identity and resource, never the identity header or a token", async () => {
    logLines.length = 0;
    const { body } = await appService({ resource: "api://orders", client_id: USER_MI.clientId });
    await appService({ resource: "api://orders" }, { "X-IDENTITY-HEADER": `${header}x` });
    const recorded = emulator.requests.filter((request) => request.path === "/msi/token");
    expect(recorded.at(-2)).toMatchObject({ clientId: USER_MI.clientId, scope: "api://orders", status: 200 });
    expect(logLines.some((line) => line.startsWith("GET /msi/token 200") && line.includes(`client=${USER_MI.clientId}`))).toBe(true);
    const everything = [logLines.join("\n"), JSON.stringify(emulator.requests), inspect(emulator.requests, { depth: 5 })].join("\n");
    expect(everything).not.toContain(header);
    expect(everything).not.toContain(body.access_token);
  });
});

describe("Cloud Shell", () => {
  const post = (form: Record<string, string>, headers: Record<string, string> = { Metadata: "true" }): Promise<Call> =>
    call("/cloud-shell/oauth2/token", {}, { "content-type": "application/x-www-form-urlencoded", ...headers }, { method: "POST", body: new URLSearchParams(form).toString() });

  it("answers a POST form with the system-assigned identity's token", async () => {
    const { status, body } = await post({ resource: "api://orders" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ client_id: SYSTEM_MI.clientId, resource: "api://orders", token_type: "Bearer" });
  });

  it("refuses a missing Metadata header, a missing resource and GET", async () => {
    expect((await post({ resource: "api://orders" }, {})).body.error_description).toBe("Required metadata header not specified");
    expect((await post({})).body.error_description).toBe("Required query variable 'resource' is missing");
    const response = await fetch(`${emulator.url}/cloud-shell/oauth2/token`, { headers: { Metadata: "true" } });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });
});

describe("Azure Arc", () => {
  it("challenges with a 0600 key file in the configured directory, accepts its content, and deletes it on close", async () => {
    const directory = await mkdtemp(join(tmpdir(), "emulator-arc-"));
    const arc = await startEmulator({ config: managedIdentityConfig(), arcKeyDirectory: join(directory, "tokens") });
    const { IDENTITY_ENDPOINT, IMDS_ENDPOINT } = arc.managedIdentityEnvironment("arc");
    expect(IMDS_ENDPOINT).toBe(arc.url);
    const ask = (query: Record<string, string>, headers: Record<string, string>): Promise<Response> =>
      fetch(`${IDENTITY_ENDPOINT}?${new URLSearchParams({ "api-version": "2020-06-01", resource: "api://orders", ...query }).toString()}`, { headers });
    try {
      const challenge = await ask({}, { Metadata: "true" });
      expect(challenge.status).toBe(401);
      const realm = /^Basic realm=(.+)$/.exec(challenge.headers.get("www-authenticate") ?? "")?.[1] ?? "";
      expect(realm.startsWith(join(directory, "tokens"))).toBe(true);
      expect(realm.endsWith(".key")).toBe(true);
      expect((await stat(realm)).mode & 0o777).toBe(0o600);
      expect((await stat(join(directory, "tokens"))).mode & 0o777).toBe(0o700);
      const key = await readFile(realm, "utf8");

      const granted = await ask({ object_id: USER_MI.objectId }, { Metadata: "true", Authorization: `Basic ${key}` });
      expect(granted.status).toBe(200);
      // msal-node checks that Arc echoes the user-assigned identity it was asked for.
      expect(await granted.json()).toMatchObject({ client_id: USER_MI.clientId, object_id: USER_MI.objectId, expires_in: "3599" });
      expect((await ask({}, { Metadata: "true", Authorization: "Basic not-the-key" })).status).toBe(401);
      expect((await ask({}, { Authorization: `Basic ${key}` })).status).toBe(400);
      expect((await ask({ "api-version": "2018-02-01" }, { Metadata: "true", Authorization: `Basic ${key}` })).status).toBe(400);
      expect(JSON.stringify(arc.requests)).not.toContain(key);
      await arc.close();
      await expect(stat(realm)).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await arc.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("Service Fabric", () => {
  const sf = (query: Record<string, string>, headers: Record<string, string> = { secret: header }): Promise<Call> =>
    call("/service-fabric/metadata/identity/oauth2/token", { "api-version": "2019-07-01-preview", resource: "api://orders", ...query }, headers);

  it("answers with expires_on as a number, and selects a user-assigned identity by mi_res_id", async () => {
    const { status, body } = await sf({ mi_res_id: USER_MI.resourceId });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_on", "resource", "token_type"]);
    expect(typeof body.expires_on).toBe("number");
    expect(decodeJwt(body.access_token)).toMatchObject({ oid: USER_MI.objectId });
  });

  it.each([
    ["no secret header", {}, {}, 401, "SecretHeaderNotFound"],
    ["a wrong secret header", {}, { secret: "guess" }, 401, "SecretHeaderMismatch"],
    ["another api-version", { "api-version": "2019-08-01" }, undefined, 400, "InvalidApiVersion"],
    ["an unknown identity", { client_id: "eeeeeeee-0000-4000-8000-000000000009" }, undefined, 400, "ManagedIdentityNotFound"],
  ])("refuses %s with Service Fabric's error shape", async (_name, query: Record<string, string>, headers: Record<string, string> | undefined, status, code) => {
    const answer = await sf(query, headers);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toMatchObject({ code, message: expect.any(String), correlationId: expect.any(String) });
  });
});

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createDaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callOrdersApi } from "../src/daemon.js";
import { startOrdersApi, type OrdersApi } from "../src/orders-api.js";

let emulator: Emulator;
let api: OrdersApi;

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  api = await startOrdersApi({
    issuer: emulator.issuer(ids.tenantId),
    jwksUri: emulator.jwksUri(ids.tenantId),
    audience: ids.apiIdentifierUri,
  });
});
afterAll(async () => {
  await api?.close();
  await emulator?.close();
});

describe("call-own-api", () => {
  it("the daemon gets a token once and calls the API twice", async () => {
    const client = createDaemonClient({
      authority: emulator.authority(ids.tenantId),
      clientId: ids.daemonClientId,
      credential: clientSecret(ids.daemonClientSecret),
    });
    const first = await callOrdersApi(client, api.url, ids.apiScope);
    const second = await callOrdersApi(client, api.url, ids.apiScope);
    expect([first.status, first.token.source, second.status, second.token.source]).toEqual([200, "network", 200, "cache"]);
    expect(emulator.tokenRequestCount({ clientId: ids.daemonClientId })).toBe(1);
    await client.dispose();
  });

  it("answers 401 with WWW-Authenticate for a missing or forged token", async () => {
    const missing = await fetch(`${api.url}/orders`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer /);
    const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ aud: ids.apiIdentifierUri, roles: ["Orders.Read.All"] })).toString("base64url");
    const forged = await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${header}.${payload}.c2ln` } });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("answers 403 in the Graph error shape when the role was not granted", async () => {
    emulator.revoke({ tenant: ids.tenantId, clientId: ids.daemonClientId });
    const client = createDaemonClient({
      authority: emulator.authority(ids.tenantId),
      clientId: ids.daemonClientId,
      credential: clientSecret(ids.daemonClientSecret),
    });
    const run = await callOrdersApi(client, api.url, ids.apiScope);
    expect(run.status).toBe(403);
    expect(run.body).toMatchObject({ error: { code: "Authorization_RequestDenied" } });
    await client.dispose();
    emulator.grant({ tenant: ids.tenantId, clientId: ids.daemonClientId, resource: ids.apiIdentifierUri, roles: ["Orders.Read.All"] });
  });

  it("start (src/start.ts) runs the same daemon from the AZURE_* variables, and says what to set when they are missing", async () => {
    const main = fileURLToPath(new URL("../dist/start.js", import.meta.url));
    const env = {
      ...process.env,
      AZURE_TENANT_ID: ids.tenantDomain,
      AZURE_CLIENT_ID: ids.daemonClientId,
      AZURE_CLIENT_SECRET: ids.daemonClientSecret,
      AZURE_AUTHORITY_HOST: emulator.url,
      API_SCOPE: ids.apiScope,
      API_URL: api.url,
    };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main], { env, timeout: 30_000 });
    expect(stdout).toContain(`daemon: EnvironmentCredential: tenant ${ids.tenantDomain}, client ${ids.daemonClientId}, client secret from AZURE_CLIENT_SECRET`);
    expect(stdout).toContain(`token from network; ${api.url}/orders → HTTP 200`);
    expect(`${stdout}${stderr}`).not.toContain(ids.daemonClientSecret);

    const { AZURE_CLIENT_SECRET: _secret, ...withoutSecret } = env;
    const failed = await promisify(execFile)(process.execPath, [main], { env: withoutSecret, timeout: 30_000 }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/^Set one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE/);
  });

  it("pnpm demo tells the story and exits 0", async () => {
    const demo = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [demo], { timeout: 30_000 });
    expect(stdout).toMatch(/token from network/);
    expect(stdout).toMatch(/token from cache/);
    expect(stdout).toMatch(/403 Authorization_RequestDenied/);
    expect(stdout).not.toContain(ids.daemonClientSecret);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON bodies are inspected loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../src/index.js";
import { CONTOSO, testConfig } from "./helpers.js";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ config: testConfig() });
});

afterAll(async () => {
  await emulator.close();
});

async function getJson(path: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${emulator.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe("OpenID Provider metadata", () => {
  it("serves the v2.0 document for a tenant id or domain, with endpoints under the tenant id", async () => {
    for (const tenant of [CONTOSO, "contoso.onmicrosoft.com"]) {
      const { status, body } = await getJson(`/${tenant}/v2.0/.well-known/openid-configuration`);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        issuer: emulator.issuer(CONTOSO),
        token_endpoint: emulator.tokenEndpoint(CONTOSO),
        authorization_endpoint: `${emulator.url}/${CONTOSO}/oauth2/v2.0/authorize`,
        jwks_uri: emulator.jwksUri(tenant),
        id_token_signing_alg_values_supported: ["RS256"],
      });
      expect(body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_post", "client_secret_basic", "private_key_jwt"]));
    }
    const alias = await getJson(`/${CONTOSO}/.well-known/openid-configuration`);
    expect(alias.body.issuer).toBe(emulator.issuer(CONTOSO));
  });

  it("serves the {tenantid} template for common, and 90002 (invalid_tenant) for an unknown tenant", async () => {
    const common = await getJson("/common/v2.0/.well-known/openid-configuration");
    expect(common.body.issuer).toBe(`${emulator.url}/{tenantid}/v2.0`);
    const unknown = await getJson("/99999999-9999-4999-8999-999999999999/v2.0/.well-known/openid-configuration");
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: "invalid_tenant", error_codes: [90002] });
  });
});

describe("JWKS", () => {
  it("publishes one RS256 signing key with kid, x5t and x5c", async () => {
    const { status, body } = await getJson(`/${CONTOSO}/discovery/v2.0/keys`);
    expect(status).toBe(200);
    expect(body.keys).toHaveLength(1);
    const [key] = body.keys;
    expect(key).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256", e: "AQAB", issuer: emulator.issuer(CONTOSO) });
    expect(key.kid).toBe(key.x5t);
    expect(key.x5c).toHaveLength(1);
    expect(key).not.toHaveProperty("d");
  });
});

describe("instance discovery", () => {
  it("returns the document MSAL reads, naming the emulator host", async () => {
    const host = new URL(emulator.url).host;
    const authorize = encodeURIComponent(`${emulator.url}/contoso.onmicrosoft.com/oauth2/v2.0/authorize`);
    const { status, body } = await getJson(`/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      tenant_discovery_endpoint: `${emulator.url}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`,
      "api-version": "1.1",
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });
});

describe("other paths", () => {
  it("serves the error_uri page", async () => {
    const response = await fetch(`${emulator.url}/error?code=70011`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    expect(html).toContain("AADSTS70011");
    expect(html).toContain("invalid_scope");
    expect(await (await fetch(`${emulator.url}/error?code=%3Cscript%3E`)).text()).not.toContain("<script>");
  });

  it("answers unknown paths with 404 and records them", async () => {
    emulator.resetRequests();
    expect((await fetch(`${emulator.url}/nothing/here`)).status).toBe(404);
    expect((await fetch(`${emulator.url}/`)).status).toBe(404);
    expect(emulator.requests.map((r) => [r.path, r.status])).toEqual([["/nothing/here", 404], ["/", 404]]);
  });
});

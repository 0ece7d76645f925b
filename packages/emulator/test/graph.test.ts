/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON bodies are inspected loosely in tests */
// The sample Graph resource: paging, Graph's error shapes and the on-demand claims challenge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRAPH_RESOURCE, startEmulator, type Emulator, type EmulatorConfig } from "../src/index.js";
import { CONTOSO, DAEMON, FABRIKAM, ISV, ISV_SECRET, postToken, secretForm, testConfig } from "./helpers.js";

const GRAPH_APP = "00000003-0000-0000-c000-000000000000";
const SCOPE = `${GRAPH_RESOURCE}/.default`;

function graphConfig(): EmulatorConfig {
  const config = testConfig();
  config.applications.push({ clientId: GRAPH_APP, displayName: "Microsoft Graph", homeTenant: CONTOSO, multiTenant: true, identifierUris: [GRAPH_RESOURCE], appRoles: [{ value: "User.Read.All" }] });
  config.grants?.push({ tenant: CONTOSO, clientId: DAEMON, resource: GRAPH_RESOURCE, roles: ["User.Read.All"] });
  return config;
}

async function token(emulator: Emulator, form = secretForm({ scope: SCOPE })): Promise<string> {
  const call = await postToken(emulator, CONTOSO, form);
  expect(call.status).toBe(200);
  return call.body.access_token as string;
}

async function get(url: string, accessToken?: string): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, { headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe("sample Graph /v1.0/users", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ config: graphConfig() });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("pages through 25 generated users with @odata.nextLink", async () => {
    const accessToken = await token(emulator);
    const ids: string[] = [];
    let url: string | undefined = `${emulator.graphUrl}/users`;
    let pages = 0;
    while (url !== undefined) {
      const page = await get(url, accessToken);
      expect(page.status).toBe(200);
      expect(page.body["@odata.context"]).toBe(`${emulator.url}/v1.0/$metadata#users`);
      ids.push(...(page.body.value as { id: string }[]).map((user) => user.id));
      url = page.body["@odata.nextLink"] as string | undefined;
      if (url !== undefined) expect(url).toMatch(/\/v1\.0\/users\?.*\$skiptoken=/);
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(25);
  });

  it("honours $top and rejects a bad one", async () => {
    const accessToken = await token(emulator);
    const page = await get(`${emulator.graphUrl}/users?$top=5`, accessToken);
    expect(page.body.value).toHaveLength(5);
    expect(page.body["@odata.nextLink"]).toContain("$top=5");
    expect((await get(`${emulator.graphUrl}/users?$top=0`, accessToken)).status).toBe(400);
  });

  it("answers 401 with a Bearer challenge for a missing or foreign token", async () => {
    const missing = await get(`${emulator.graphUrl}/users`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(missing.body.error.code).toBe("InvalidAuthenticationToken");
    const ordersToken = await token(emulator, secretForm());
    const wrongAudience = await get(`${emulator.graphUrl}/users`, ordersToken);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("answers 403 Authorization_RequestDenied without the User.Read.All role", async () => {
    const accessToken = await token(emulator, { grant_type: "client_credentials", client_id: ISV, client_secret: ISV_SECRET, scope: SCOPE });
    const denied = await get(`${emulator.graphUrl}/users`, accessToken);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("Authorization_RequestDenied");
    expect(denied.body.error.message).toBe("Insufficient privileges to complete the operation.");
    expect(denied.body.error.innerError["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof denied.body.error.innerError.date).toBe("string");
  });

  it("serves configured users", async () => {
    const custom = await startEmulator({ config: graphConfig(), graph: { users: [{ id: "u1", displayName: "Ada", userPrincipalName: "ada@contoso.example" }] } });
    try {
      const page = await get(`${custom.graphUrl}/users`, await token(custom));
      expect(page.body.value).toEqual([{ id: "u1", displayName: "Ada", userPrincipalName: "ada@contoso.example" }]);
      expect(page.body["@odata.nextLink"]).toBeUndefined();
    } finally {
      await custom.close();
    }
  });

  it("raises a claims challenge on demand until a token acquired with claims is presented", async () => {
    const plain = await token(emulator);
    emulator.requireClaims(DAEMON);
    const challenged = await get(`${emulator.graphUrl}/users`, plain);
    expect(challenged.status).toBe(401);
    const header = challenged.headers.get("www-authenticate") ?? "";
    expect(header).toContain('error="insufficient_claims"');
    const claims = /claims="([^"]+)"/.exec(header)?.[1] ?? "";
    const decoded = JSON.parse(Buffer.from(claims, "base64").toString("utf8"));
    expect(decoded.access_token.nbf.essential).toBe(true);
    expect((await get(`${emulator.graphUrl}/users`, plain)).status).toBe(401);

    const answered = await token(emulator, secretForm({ scope: SCOPE, claims: JSON.stringify(decoded) }));
    expect((await get(`${emulator.graphUrl}/users`, answered)).status).toBe(200);
    expect((await get(`${emulator.graphUrl}/users`, plain)).status).toBe(200);
  });

  it("challenges a still-valid token once its tenant withdrew consent (CAE service principal deletion), and the new token is refused", async () => {
    emulator.grant({ tenant: FABRIKAM, clientId: ISV, resource: GRAPH_RESOURCE, roles: ["User.Read.All"] });
    const isv = secretForm({ client_id: ISV, client_secret: ISV_SECRET, scope: SCOPE });
    const issued = await postToken(emulator, FABRIKAM, isv);
    expect((await get(`${emulator.graphUrl}/users`, issued.body.access_token)).status).toBe(200);

    emulator.revoke({ tenant: FABRIKAM, clientId: ISV });
    const challenged = await get(`${emulator.graphUrl}/users`, issued.body.access_token);
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get("www-authenticate")).toContain('error="insufficient_claims"');
    expect(challenged.body.error.message).toContain("TokenIssuedBeforeRevocationTimestamp");
    expect((await postToken(emulator, FABRIKAM, isv)).body.error_codes).toEqual([700016]);

    emulator.grant({ tenant: FABRIKAM, clientId: ISV, resource: GRAPH_RESOURCE, roles: ["User.Read.All"] });
    expect((await get(`${emulator.graphUrl}/users`, issued.body.access_token)).status).toBe(200);
  });

  it("rejects a claims parameter that is not a JSON object", async () => {
    const call = await postToken(emulator, CONTOSO, secretForm({ scope: SCOPE, claims: "not json" }));
    expect(call.status).toBe(400);
  });
});

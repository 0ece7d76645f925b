// createApiFetch with core's real createDaemonClient against the emulator's sample
// Graph: OData paging, a CAE claims challenge answered once, and missing consent.
import { createDaemonClient, type DaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, GRAPH_RESOURCE, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConsentRequiredError, createApiFetch } from "../src/index.js";

const GRAPH_APP = "00000003-0000-0000-c000-000000000000";
const NO_ROLE_APP = "aaaaaaaa-0000-4000-8000-0000000000cc";
const NO_ROLE_SECRET = "graph-app-without-role-secret";
const SCOPES = [`${GRAPH_RESOURCE}/.default`];

let emulator: Emulator;
const clients: DaemonClient[] = [];

beforeAll(async () => {
  const config = demoEmulatorConfig();
  config.applications.push(
    { clientId: GRAPH_APP, displayName: "Microsoft Graph", homeTenant: ids.tenantId, multiTenant: true, identifierUris: [GRAPH_RESOURCE], appRoles: [{ value: "User.Read.All" }] },
    { clientId: NO_ROLE_APP, displayName: "daemon without consent", homeTenant: ids.tenantId, secrets: [{ value: NO_ROLE_SECRET }] },
  );
  config.grants?.push({ tenant: ids.tenantId, clientId: ids.daemonClientId, resource: GRAPH_RESOURCE, roles: ["User.Read.All"] });
  emulator = await startEmulator({ config });
});
afterAll(async () => {
  await emulator?.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});

function client(clientId: string = ids.daemonClientId, secret: string = ids.daemonClientSecret): DaemonClient {
  const created = createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId, credential: clientSecret(secret) });
  clients.push(created);
  return created;
}

interface UsersPage {
  value: { id: string }[];
  "@odata.nextLink"?: string;
}

describe("createApiFetch against the emulator's Graph", () => {
  it("pages through every user by following @odata.nextLink with one token", async () => {
    emulator.resetRequests();
    const api = createApiFetch({ client: client(), scopes: SCOPES });
    const ids: string[] = [];
    let url: string | undefined = `${emulator.graphUrl}/users`;
    while (url !== undefined) {
      const response = await api(url);
      expect(response.status).toBe(200);
      const page = (await response.json()) as UsersPage;
      ids.push(...page.value.map((user) => user.id));
      url = page["@odata.nextLink"];
    }
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
    expect(emulator.tokenRequestCount()).toBe(1);
  });

  it("answers a claims challenge with one token request carrying the claims and one retry", async () => {
    const daemon = client();
    const api = createApiFetch({ client: daemon, scopes: SCOPES });
    expect((await api(`${emulator.graphUrl}/users?$top=1`)).status).toBe(200);
    emulator.resetRequests();
    emulator.requireClaims(ids.daemonClientId);

    const response = await api(`${emulator.graphUrl}/users?$top=1`);
    expect(response.status).toBe(200);
    expect(emulator.tokenRequestCount()).toBe(1);
    expect(emulator.requests.filter((request) => request.path === "/v1.0/users").map((request) => request.status)).toEqual([401, 200]);
  });

  it("turns 403 Authorization_RequestDenied into ConsentRequiredError with the admin consent URL", async () => {
    const api = createApiFetch({ client: client(NO_ROLE_APP, NO_ROLE_SECRET), scopes: SCOPES, consent: { authorityHost: emulator.url } });
    const failure = await api(`${emulator.graphUrl}/users`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConsentRequiredError);
    const consent = failure as ConsentRequiredError;
    expect(consent.status).toBe(403);
    expect(consent.apiError).toBe("Authorization_RequestDenied");
    const url = new URL(consent.adminConsentUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${emulator.url}/${ids.tenantId}/adminconsent`);
    expect(url.searchParams.get("client_id")).toBe(NO_ROLE_APP);
  });
});

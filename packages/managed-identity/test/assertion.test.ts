// Managed identity as an app's federated credential, end to end on the emulator: the
// daemon runs on a "VM" whose system-assigned identity a multi-tenant app registration
// trusts; the identity's token for api://AzureADTokenExchange is the client assertion,
// and the app gets tokens in another tenant that consented to it. No secret anywhere.
import { ConfigurationError, createDaemonClient } from "@daemon-auth/core";
import { beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityClient, managedIdentityAssertion, TOKEN_EXCHANGE_AUDIENCES } from "../src/index.js";
import { claimsOf, expectNoSecret, FABRIKAM, FABRIKAM_API, ids, ISV_APP, printed, emulatedSource } from "./helpers.js";

const mi = emulatedSource("imds");

beforeAll(() => {
  // As in Entra: issuer = the identity's tenant, subject = its object id.
  mi.emulator.addFederatedCredential(ISV_APP, {
    name: "vm-identity",
    issuer: mi.emulator.issuer(ids.tenantId),
    subject: ids.systemIdentityObjectId,
    audiences: [TOKEN_EXCHANGE_AUDIENCES.public],
  });
});

const imdsRequests = () => mi.requests().length;
const tokenRequests = () => mi.emulator.requests.filter((request) => request.method === "POST" && request.path.endsWith("/oauth2/v2.0/token"));

describe("managedIdentityAssertion", () => {
  it("gets the app a token in another consented tenant with the managed identity's token as its assertion", async () => {
    const credential = managedIdentityAssertion({ env: mi.env });
    const client = createDaemonClient({ authority: mi.emulator.authority(FABRIKAM), clientId: ISV_APP, credential });
    const result = await client.acquireTokenForClient({ scopes: [`${FABRIKAM_API}/.default`] });
    expect(claimsOf(result.accessToken)).toMatchObject({ aud: FABRIKAM_API, tid: FABRIKAM, azp: ISV_APP, azpacr: "2", roles: ["Orders.Read.All"] });
    expect(tokenRequests()).toEqual([expect.objectContaining({ clientAuth: "assertion", status: 200, tenant: FABRIKAM })]);
    expect(credential.description).toBe(`managed identity (imds, system-assigned) for api://AzureADTokenExchange`);

    // A forced refresh signs in again with the cached managed identity token: no second IMDS request.
    await client.acquireTokenForClient({ scopes: [`${FABRIKAM_API}/.default`], forceRefresh: true });
    expect(imdsRequests()).toBe(1);
    expect(tokenRequests()).toHaveLength(2);

    const { clientAssertion } = await credential.getAuthentication({ tokenEndpoint: mi.emulator.tokenEndpoint(FABRIKAM), clientId: ISV_APP, authorityKind: "entra" });
    expect(claimsOf(clientAssertion)).toMatchObject({ aud: TOKEN_EXCHANGE_AUDIENCES.public, sub: ids.systemIdentityObjectId, iss: mi.emulator.issuer(ids.tenantId) });
    expectNoSecret([...printed(credential), ...printed(client)], [clientAssertion, result.accessToken]);
    await client.dispose();
    await credential.dispose();
  });

  it("fetches a new managed identity token after the server rejects the assertion (reload)", async () => {
    const credential = managedIdentityAssertion({ env: mi.env });
    const context = { tokenEndpoint: mi.emulator.tokenEndpoint(FABRIKAM), clientId: ISV_APP, authorityKind: "entra" as const };
    const first = await credential.getAuthentication(context);
    expect((await credential.getAuthentication(context)).clientAssertion).toBe(first.clientAssertion);
    await credential.reload();
    const renewed = await credential.getAuthentication(context);
    expect(renewed.clientAssertion).not.toBe(first.clientAssertion);
    expect(imdsRequests()).toBe(2);
    await credential.dispose();
  });

  it("shares an existing managed identity client and its cache, and refuses options beside it", async () => {
    const shared = createManagedIdentityClient({ env: mi.env });
    await shared.acquireTokenForClient({ scopes: [`${TOKEN_EXCHANGE_AUDIENCES.public}/.default`] });
    const credential = managedIdentityAssertion({ client: shared });
    await credential.getAuthentication({ tokenEndpoint: mi.emulator.tokenEndpoint(FABRIKAM), clientId: ISV_APP, authorityKind: "entra" });
    expect(imdsRequests()).toBe(1);
    await credential.dispose();
    // Not the credential's to dispose: the shared client still answers.
    await expect(shared.acquireTokenForClient({ scopes: [`${TOKEN_EXCHANGE_AUDIENCES.public}/.default`] })).resolves.toMatchObject({ source: "cache" });
    expect(() => managedIdentityAssertion({ client: shared, clientId: ids.userIdentityClientId })).toThrow(ConfigurationError);
    expect(() => managedIdentityAssertion({ client: shared, clientId: ids.userIdentityClientId })).toThrow(
      /^managedIdentityAssertion: pass either 'client' or client options, not both: configure 'clientId' on the client you pass\.$/,
    );
    expect(() => managedIdentityAssertion({ env: mi.env, audience: "api://AzureADTokenExchange/.default" })).toThrow(
      /^managedIdentityAssertion: 'audience' must be the federated credential's audience, .*without '\/\.default'/,
    );
    expect(() => managedIdentityAssertion({ client: null as never })).toThrow(/^managedIdentityAssertion: 'client' must be a managed identity client/);
    expect(() => managedIdentityAssertion({ env: mi.env, audiences: ["x"] } as never)).toThrow(
      /^managedIdentityAssertion: unknown option 'audiences'; did you mean 'audience'\?$/,
    );
    // The client it creates reports mistakes in the name of the function the user called.
    expect(() => managedIdentityAssertion({ env: mi.env, clientId: "my-identity" })).toThrow(
      /^managedIdentityAssertion: 'clientId' must be the user-assigned identity's client id, a GUID/,
    );
    expect(() => managedIdentityAssertion({ env: mi.env, expiryMarginMs: -1 })).toThrow(
      /^managedIdentityAssertion: 'expiryMarginMs' must be a non-negative number of milliseconds/,
    );
    await shared.dispose();
  });

  it("asks for another cloud's audience, and a federated credential that does not list it refuses the assertion", async () => {
    const credential = managedIdentityAssertion({ env: mi.env, audience: TOKEN_EXCHANGE_AUDIENCES.usgov });
    const { clientAssertion } = await credential.getAuthentication({ tokenEndpoint: mi.emulator.tokenEndpoint(FABRIKAM), clientId: ISV_APP, authorityKind: "entra" });
    expect(claimsOf(clientAssertion)["aud"]).toBe("api://AzureADTokenExchangeUSGov");
    const client = createDaemonClient({ authority: mi.emulator.authority(FABRIKAM), clientId: ISV_APP, credential });
    await expect(client.acquireTokenForClient({ scopes: [`${FABRIKAM_API}/.default`] })).rejects.toMatchObject({ errorCodes: [700212] });
    await client.dispose();
    await credential.dispose();
  });
});

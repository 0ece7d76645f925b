// A managed identity as an app's federated credential, as Entra accepts it: the
// emulator's own managed identity token for api://AzureADTokenExchange is the client
// assertion of a multi-tenant app that trusts the identity, which then gets app tokens
// in another tenant that consented to it. Wrong audience, subject, issuer, signature
// and expiry get the AADSTS errors of federated credentials.
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSelfSignedCertificate, startEmulator, type Emulator } from "../src/index.js";
import { assertionForm, CONTOSO, DAEMON, FABRIKAM, ISV, ORDERS_API, postToken } from "./helpers.js";
import { managedIdentityConfig, SYSTEM_MI, USER_MI } from "./managed-identity-helpers.js";

const EXCHANGE = "api://AzureADTokenExchange";
let emulator: Emulator;
let shiftMs = 0;
const logLines: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ config: managedIdentityConfig(), clock: () => Date.now() + shiftMs, log: (line) => logLines.push(line) });
  // The ISV app (multi-tenant, consented in Fabrikam for api://orders) trusts the VM's system-assigned identity.
  emulator.addFederatedCredential(ISV, { name: "vm", issuer: emulator.issuer(CONTOSO), subject: SYSTEM_MI.objectId });
});

afterAll(async () => {
  await emulator?.close();
});

async function managedIdentityToken(resource: string, clientId?: string): Promise<string> {
  const query = new URLSearchParams({ "api-version": "2018-02-01", resource, ...(clientId === undefined ? {} : { client_id: clientId }) });
  const response = await fetch(`${emulator.url}/metadata/identity/oauth2/token?${query.toString()}`, { headers: { Metadata: "true" } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe("a managed identity token as a federated client assertion", () => {
  it("gets the app's token in a tenant that consented to the app, without a secret", async () => {
    logLines.length = 0;
    const assertion = await managedIdentityToken(EXCHANGE);
    const { status, body } = await postToken(emulator, "fabrikam.onmicrosoft.com", assertionForm(ISV, assertion));
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token as string)).toMatchObject({ aud: "api://orders", azp: ISV, azpacr: "2", tid: FABRIKAM, roles: ["Orders.Read.All"], iss: emulator.issuer(FABRIKAM) });
    expect(emulator.requests.at(-1)).toMatchObject({ clientId: ISV, clientAuth: "assertion", status: 200 });
    expect(logLines.join("\n")).not.toContain(assertion);
  });

  it("refuses a token for another audience (AADSTS700212)", async () => {
    const { status, body } = await postToken(emulator, FABRIKAM, assertionForm(ISV, await managedIdentityToken("api://orders")));
    expect(status).toBe(401);
    expect(body.error_codes).toEqual([700212]);
    expect(body.error_description).toContain("audience 'api://orders'");
  });

  it("refuses another identity's token (AADSTS700213)", async () => {
    const { body } = await postToken(emulator, FABRIKAM, assertionForm(ISV, await managedIdentityToken(EXCHANGE, USER_MI.clientId)));
    expect(body.error_codes).toEqual([700213]);
    expect(body.error_description).toContain(`subject '${USER_MI.objectId}'`);
  });

  it("refuses it for an app without a federated credential of that issuer (AADSTS700211)", async () => {
    const { status, body } = await postToken(emulator, CONTOSO, assertionForm(DAEMON, await managedIdentityToken(EXCHANGE)));
    expect(status).toBe(401);
    expect(body.error_codes).toEqual([700211]);
    expect(body.error_description).toContain(`issuer '${emulator.issuer(CONTOSO)}'`);
  });

  it("refuses a look-alike token that the emulator's key did not sign (AADSTS700027)", async () => {
    const genuine = await managedIdentityToken(EXCHANGE);
    const { x5t, kid } = decodeProtectedHeader(genuine);
    const impostor = await createSelfSignedCertificate({ subject: "impostor" });
    const forged = await new SignJWT(decodeJwt(genuine)).setProtectedHeader({ alg: "RS256", typ: "JWT", x5t: x5t as string, kid: kid as string }).sign(impostor.privateKey);
    const { body } = await postToken(emulator, FABRIKAM, assertionForm(ISV, forged));
    expect(body.error_codes).toEqual([700027]);
  });

  it("refuses an expired token (AADSTS700024)", async () => {
    const assertion = await managedIdentityToken(EXCHANGE);
    shiftMs = 2 * 3600_000;
    try {
      const { body } = await postToken(emulator, FABRIKAM, assertionForm(ISV, assertion));
      expect(body.error_codes).toEqual([700024]);
    } finally {
      shiftMs = 0;
    }
  });

  it("still treats an app's own certificate assertion as one, not as a federated token", async () => {
    // ORDERS_API has no certificate: a self-signed assertion with x5t is refused as a certificate assertion (700027), never 7002xx.
    const certificate = await createSelfSignedCertificate({ subject: "unregistered" });
    const assertion = await new SignJWT({ iss: ORDERS_API, sub: ORDERS_API, aud: emulator.tokenEndpoint(CONTOSO), exp: Math.floor(Date.now() / 1000) + 600 })
      .setProtectedHeader({ alg: "RS256", x5t: certificate.x5t })
      .sign(certificate.privateKey);
    const { body } = await postToken(emulator, CONTOSO, assertionForm(ORDERS_API, assertion, "api://orders/.default"));
    expect(body.error_codes).toEqual([700027]);
    expect(body.error_description).toContain("Thumbprint of key used by client");
  });
});

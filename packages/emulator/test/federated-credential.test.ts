import { generateKeyPairSync } from "node:crypto";
import { SignJWT, decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmulatorConfigError, startEmulator, validateEmulatorConfigShape, type Emulator } from "../src/index.js";
import { CONTOSO, DAEMON, assertionForm, postToken, testConfig } from "./helpers.js";

const SUBJECT = "system:serviceaccount:orders:daemon";

let emulator: Emulator;
/** A second emulator playing the external issuer, reached over HTTP discovery. */
let issuer: Emulator;

beforeAll(async () => {
  [emulator, issuer] = await Promise.all([startEmulator({ config: testConfig() }), startEmulator()]);
  emulator.addFederatedCredential(DAEMON, { issuer: emulator.externalIssuer, subject: SUBJECT, name: "self" });
  emulator.addFederatedCredential(DAEMON, { issuer: issuer.externalIssuer, subject: SUBJECT, audiences: ["api://custom", "api://AzureADTokenExchange"], name: "remote" });
});

afterAll(async () => {
  await Promise.all([emulator?.close(), issuer?.close()]);
});

async function call(assertion: string) {
  return postToken(emulator, CONTOSO, assertionForm(DAEMON, assertion));
}

async function expectCode(assertion: string, code: number) {
  const { status, body } = await call(assertion);
  expect({ status, error: body.error, codes: body.error_codes }).toEqual({ status: 401, error: "invalid_client", codes: [code] });
  expect(body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
  expect(body.error_description).not.toContain(assertion);
  return body.error_description as string;
}

/** A token of some issuer, signed with a key the issuer does not publish. */
async function foreignToken(claims: Record<string, unknown>, kid = "unknown-kid"): Promise<string> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: SUBJECT, aud: "api://AzureADTokenExchange", iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: "RS256", kid })
    .sign(privateKey);
}

describe("federated assertions", () => {
  it("the external issuer signs Kubernetes-style tokens and serves discovery and keys", async () => {
    const token = await emulator.issueExternalToken({ subject: SUBJECT, lifetimeSeconds: 600 });
    expect(decodeProtectedHeader(token)).not.toHaveProperty("x5t");
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: `${emulator.url}/external`, sub: SUBJECT, aud: "api://AzureADTokenExchange" });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
    const metadata = (await (await fetch(`${emulator.externalIssuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ issuer: emulator.externalIssuer, jwks_uri: `${emulator.externalIssuer}/keys` });
    const jwks = (await (await fetch(`${emulator.externalIssuer}/keys`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual([decodeProtectedHeader(token).kid]);
  });

  it("accepts a token of its own external issuer: app token with azpacr 2 and the granted roles", async () => {
    const { status, body } = await call(await emulator.issueExternalToken({ subject: SUBJECT }));
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token as string)).toMatchObject({ azp: DAEMON, azpacr: "2", aud: "api://orders", roles: ["Orders.Read.All", "Orders.Write.All"] });
  });

  it("fetches a remote issuer's keys by OIDC discovery, then serves them from its cache", async () => {
    issuer.resetRequests();
    for (const audience of ["api://custom", "api://AzureADTokenExchange"]) {
      const { status } = await call(await issuer.issueExternalToken({ subject: SUBJECT, audience }));
      expect(status).toBe(200);
    }
    expect(issuer.requests.map((request) => request.path)).toEqual(["/external/.well-known/openid-configuration", "/external/keys"]);
  });

  it("unknown issuer (700211), subject (700213) and audience (700212), compared case-sensitively", async () => {
    expect(await expectCode(await foreignToken({ iss: "https://oidc.unknown.example" }), 700211)).toContain("https://oidc.unknown.example");
    expect(await expectCode(await emulator.issueExternalToken({ subject: SUBJECT.toUpperCase() }), 700213)).toContain(SUBJECT.toUpperCase());
    expect(await expectCode(await emulator.issueExternalToken({ subject: SUBJECT, audience: "api://custom" }), 700212)).toContain("api://custom");
  });

  it("a signature the issuer's keys do not verify, or an unknown kid (700027)", async () => {
    const token = await issuer.issueExternalToken({ subject: SUBJECT });
    const [header, payload] = token.split(".");
    const other = await emulator.issueExternalToken({ subject: SUBJECT });
    expect(await expectCode(`${header}.${payload}.${other.split(".")[2]}`, 700027)).toContain("does not verify");
    expect(await expectCode(await foreignToken({ iss: issuer.externalIssuer }), 700027)).toContain("key was not found");
  });

  it("an expired token (700024)", async () => {
    await expectCode(await emulator.issueExternalToken({ subject: SUBJECT, lifetimeSeconds: -60 }), 700024);
  });

  it("an issuer whose discovery cannot be fetched (90061), retried on the next request", async () => {
    const gone = await startEmulator();
    const goneIssuer = gone.externalIssuer;
    const token = await gone.issueExternalToken({ subject: SUBJECT });
    await gone.close();
    emulator.addFederatedCredential(DAEMON, { issuer: goneIssuer, subject: SUBJECT, name: "gone" });
    try {
      expect(await expectCode(token, 90061)).toContain(goneIssuer);
      expect(await expectCode(token, 90061)).toContain(goneIssuer);
    } finally {
      emulator.removeFederatedCredential(DAEMON, "gone");
    }
  });

  it("an algorithm other than RS256/ES256 (50013)", async () => {
    const token = await new SignJWT({ iss: emulator.externalIssuer, sub: SUBJECT, aud: "api://AzureADTokenExchange", exp: Math.floor(Date.now() / 1000) + 600 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new Uint8Array(32));
    await expectCode(token, 50013);
  });

  it("removing the credential by subject or name refuses its tokens again", async () => {
    const app = "aaaaaaaa-0000-4000-8000-000000000099";
    emulator.addApplication({ clientId: app, homeTenant: CONTOSO, federatedCredentials: [{ issuer: emulator.externalIssuer, subject: "a", name: "first" }] });
    emulator.addFederatedCredential(app, { issuer: emulator.externalIssuer, subject: "b" });
    const request = async (subject: string) => postToken(emulator, CONTOSO, assertionForm(app, await emulator.issueExternalToken({ subject }), "api://orders/.default"));
    expect((await request("a")).status).toBe(200);
    expect((await request("b")).status).toBe(200);
    emulator.removeFederatedCredential(app, "first");
    emulator.removeFederatedCredential(app, "b");
    expect((await request("a")).body.error_codes).toEqual([700211]);
    expect(() => emulator.removeFederatedCredential(app, "b")).toThrow(/no federated credential/);
  });
});

describe("federated credential configuration", () => {
  const withCredential = (credential: unknown) => () =>
    validateEmulatorConfigShape({ tenants: [{ id: CONTOSO }], applications: [{ clientId: DAEMON, homeTenant: CONTOSO, federatedCredentials: [credential] }] });

  it("defaults the audience to api://AzureADTokenExchange", () => {
    const config = withCredential({ issuer: "https://token.actions.githubusercontent.com", subject: "repo:o/r:ref:refs/heads/main" })();
    expect(config.applications[0]?.federatedCredentials).toEqual([
      { issuer: "https://token.actions.githubusercontent.com", subject: "repo:o/r:ref:refs/heads/main", audiences: ["api://AzureADTokenExchange"] },
    ]);
  });

  it("refuses invalid credentials with the field and the fix", () => {
    const field = "applications[0].federatedCredentials[0]";
    expect(withCredential({ issuer: "http://oidc.example.com", subject: "s" })).toThrow(`${field}.issuer: "http://oidc.example.com" must use https (http is allowed only on localhost`);
    expect(withCredential({ issuer: "http://127.0.0.1:8080/x", subject: "s" })).not.toThrow();
    expect(withCredential({ issuer: "not a url", subject: "s" })).toThrow(`${field}.issuer`);
    expect(withCredential({ issuer: "https://x.example", subject: "" })).toThrow(`${field}.subject: expected the token's sub claim`);
    expect(withCredential({ issuer: "https://x.example", subject: "s", audiences: [] })).toThrow(`${field}.audiences: must list at least one audience`);
    expect(withCredential({ issuer: "https://x.example", subject: "s", audience: "a" })).toThrow(`${field}.audience: unknown field`);
    expect(withCredential({ issuer: "https://x.example", subject: "s" })).not.toThrow(EmulatorConfigError);
  });

  it("refuses a duplicate name or issuer and subject on one app", () => {
    expect(() => emulator.addFederatedCredential(DAEMON, { issuer: "https://x.example", subject: "other", name: "self" })).toThrow(/already has a federated credential named "self"/);
    expect(() => emulator.addFederatedCredential(DAEMON, { issuer: emulator.externalIssuer, subject: SUBJECT })).toThrow(/for this issuer and subject/);
    expect(() => emulator.addFederatedCredential("unknown-client", { issuer: "https://x.example", subject: "s" })).toThrow(/no application has client id/);
  });
});

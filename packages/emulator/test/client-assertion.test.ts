import { generateKeyPairSync } from "node:crypto";
import { SignJWT, decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSelfSignedCertificate, startEmulator, type Emulator, type GeneratedCertificate } from "../src/index.js";
import { CERT_APP, CONTOSO, DAEMON, assertionForm, postToken, signAssertion, testConfig } from "./helpers.js";

let emulator: Emulator;
let strict: Emulator;
let certificate: GeneratedCertificate;
let other: GeneratedCertificate;

beforeAll(async () => {
  [certificate, other] = await Promise.all([createSelfSignedCertificate({ subject: "daemon" }), createSelfSignedCertificate({ subject: "other" })]);
  [emulator, strict] = await Promise.all([startEmulator({ config: testConfig() }), startEmulator({ config: testConfig(), strictJti: true })]);
  for (const server of [emulator, strict]) {
    server.addCertificate(CERT_APP, { pem: certificate.certificatePem });
    server.grant({ tenant: CONTOSO, clientId: CERT_APP, resource: "api://orders", roles: ["Orders.Read.All"] });
  }
});

afterAll(async () => {
  await Promise.all([emulator?.close(), strict?.close()]);
});

async function call(assertion: string, tenant = CONTOSO, server = emulator) {
  return postToken(server, tenant, assertionForm(CERT_APP, assertion));
}

async function expectCode(assertion: string, code: number, error = "invalid_client", status = 401) {
  const { status: actual, body } = await call(assertion);
  expect({ status: actual, error: body.error, codes: body.error_codes }).toEqual({ status, error, codes: [code] });
  expect(body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
  expect(body.error_description).not.toContain(assertion);
  return body;
}

describe("valid assertions", () => {
  it("PS256 with x5t#S256 (as MSAL signs) yields a token with azpacr 2", async () => {
    const { status, body } = await call(await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint(CONTOSO)));
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token)).toMatchObject({ azp: CERT_APP, azpacr: "2", roles: ["Orders.Read.All"] });
    expect(emulator.requests.at(-1)).toMatchObject({ clientAuth: "assertion", status: 200 });
  });

  it("RS256 with x5t, and x5c alone", async () => {
    expect((await call(await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint(CONTOSO), { alg: "RS256" }))).status).toBe(200);
    const leaf = certificate.certificatePem.replace(/-----[^-]+-----|\s/g, "");
    const x5cOnly = await new SignJWT({ aud: emulator.tokenEndpoint(CONTOSO), iss: CERT_APP, sub: CERT_APP, exp: Math.floor(Date.now() / 1000) + 300 })
      .setProtectedHeader({ alg: "PS256", x5c: [leaf] })
      .sign(certificate.privateKey);
    expect((await call(x5cOnly)).status).toBe(200);
  });

  it("accepts the audience with a trailing slash, with the tenant as a domain, and an array audience", async () => {
    const variants = [
      `${emulator.tokenEndpoint(CONTOSO)}/`,
      emulator.tokenEndpoint("contoso.onmicrosoft.com"),
      emulator.tokenEndpoint("CONTOSO.example").toUpperCase().replace("HTTP://", "http://"),
    ];
    for (const aud of variants) {
      expect((await call(await signAssertion(certificate, CERT_APP, aud))).status).toBe(200);
    }
    const array = await signAssertion(certificate, CERT_APP, "ignored", { claims: { aud: ["https://elsewhere.example", emulator.tokenEndpoint(CONTOSO)] } });
    expect((await call(array, "contoso.onmicrosoft.com")).status).toBe(200);
  });

  it("allows reuse within the lifetime (Entra behaviour) and nbf up to 5 minutes ahead", async () => {
    const assertion = await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint(CONTOSO));
    expect((await call(assertion)).status).toBe(200);
    expect((await call(assertion)).status).toBe(200);
    const soon = await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint(CONTOSO), { claims: { nbf: Math.floor(Date.now() / 1000) + 240 } });
    expect((await call(soon)).status).toBe(200);
  });
});

describe("refused assertions", () => {
  it("unknown certificate (700027) names the thumbprint", async () => {
    const body = await expectCode(await signAssertion(other, CERT_APP, emulator.tokenEndpoint(CONTOSO), { alg: "RS256" }), 700027);
    expect(body.error_description).toContain(other.thumbprintSha1);
    await expectCode(await signAssertion(other, CERT_APP, emulator.tokenEndpoint(CONTOSO), { header: { "x5t#S256": undefined } }), 700027);
  });

  it("signature that does not verify with the registered certificate (7000274)", async () => {
    const forged = await signAssertion(other, CERT_APP, emulator.tokenEndpoint(CONTOSO), { header: { "x5t#S256": certificate.x5tS256 } });
    await expectCode(forged, 7000274);
    const valid = await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint(CONTOSO));
    const [header, payload] = valid.split(".");
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(valid), sub: "x" })).toString("base64url")}.${valid.split(".")[2]}`;
    expect(payload).not.toBe(tampered.split(".")[1]);
    await expectCode(tampered, 7000274);
  });

  it("algorithms other than PS256/RS256 (50013)", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const es256 = await new SignJWT({ aud: emulator.tokenEndpoint(CONTOSO), iss: CERT_APP, sub: CERT_APP, exp: Math.floor(Date.now() / 1000) + 300 })
      .setProtectedHeader({ alg: "ES256", "x5t#S256": certificate.x5tS256 })
      .sign(privateKey);
    await expectCode(es256, 50013);
    const hs256 = await new SignJWT({ aud: emulator.tokenEndpoint(CONTOSO), iss: CERT_APP, sub: CERT_APP })
      .setProtectedHeader({ alg: "HS256", "x5t#S256": certificate.x5tS256 })
      .sign(new Uint8Array(32));
    await expectCode(hs256, 50013);
    const none = `${Buffer.from(JSON.stringify({ alg: "none", "x5t#S256": certificate.x5tS256 })).toString("base64url")}.${Buffer.from("{}").toString("base64url")}.`;
    await expectCode(none, 50013);
  });

  it("malformed assertions (50013)", async () => {
    await expectCode("not-a-jwt", 50013);
    await expectCode("a.b.c", 50013);
  });

  it("wrong audience, issuer or subject (50013)", async () => {
    const endpoint = emulator.tokenEndpoint(CONTOSO);
    const body = await expectCode(await signAssertion(certificate, CERT_APP, "https://login.microsoftonline.com/x/oauth2/v2.0/token"), 50013);
    expect(body.error_description).toContain(endpoint);
    await expectCode(await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint("fabrikam.onmicrosoft.com")), 50013);
    await expectCode(await signAssertion(certificate, CERT_APP, endpoint, { claims: { iss: DAEMON } }), 50013);
    await expectCode(await signAssertion(certificate, CERT_APP, endpoint, { claims: { sub: DAEMON } }), 50013);
    await expectCode(await signAssertion(certificate, CERT_APP, endpoint, { omit: ["exp"] }), 50013);
  });

  it("outside its time range (700024)", async () => {
    const endpoint = emulator.tokenEndpoint(CONTOSO);
    const nowSeconds = Math.floor(Date.now() / 1000);
    await expectCode(await signAssertion(certificate, CERT_APP, endpoint, { claims: { exp: nowSeconds - 10, nbf: nowSeconds - 610 } }), 700024);
    await expectCode(await signAssertion(certificate, CERT_APP, endpoint, { claims: { nbf: nowSeconds + 600, exp: nowSeconds + 1200 } }), 700024);
  });

  it("a certificate outside its validity window (1000502)", async () => {
    const expired = await createSelfSignedCertificate({ notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2021-01-01T00:00:00Z") });
    emulator.addCertificate(CERT_APP, { pem: expired.certificatePem });
    try {
      await expectCode(await signAssertion(expired, CERT_APP, emulator.tokenEndpoint(CONTOSO)), 1000502);
    } finally {
      emulator.removeCertificate(CERT_APP, expired.thumbprintSha1);
    }
  });

  it("a replayed jti when strictJti is on, and a missing jti", async () => {
    const assertion = await signAssertion(certificate, CERT_APP, strict.tokenEndpoint(CONTOSO));
    expect((await call(assertion, CONTOSO, strict)).status).toBe(200);
    const replay = await call(assertion, CONTOSO, strict);
    expect([replay.status, replay.body.error_codes]).toEqual([401, [50013]]);
    expect(replay.body.error_description).toContain("jti");
    const noJti = await call(await signAssertion(certificate, CERT_APP, strict.tokenEndpoint(CONTOSO), { omit: ["jti"] }), CONTOSO, strict);
    expect(noJti.body.error_codes).toEqual([50013]);
  });

  it("a missing or wrong client_assertion_type", async () => {
    const assertion = await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint(CONTOSO));
    const form = assertionForm(CERT_APP, assertion);
    const { client_assertion_type: _omitted, ...withoutType } = form;
    expect((await postToken(emulator, CONTOSO, withoutType)).body.error_codes).toEqual([900144]);
    expect((await postToken(emulator, CONTOSO, { ...form, client_assertion_type: "jwt" })).body.error_codes).toEqual([9002313]);
  });
});

describe("certificate rotation", () => {
  it("adds a certificate, then removes the old one by SHA-1 hex, SHA-256 base64url or PEM", async () => {
    const next = await createSelfSignedCertificate({ subject: "next" });
    const endpoint = emulator.tokenEndpoint(CONTOSO);
    await expectCode(await signAssertion(next, CERT_APP, endpoint), 700027);
    emulator.addCertificate(CERT_APP, { pem: next.certificatePem });
    expect((await call(await signAssertion(next, CERT_APP, endpoint))).status).toBe(200);
    expect((await call(await signAssertion(certificate, CERT_APP, endpoint))).status).toBe(200);

    emulator.removeCertificate(CERT_APP, certificate.thumbprintSha1.toLowerCase());
    await expectCode(await signAssertion(certificate, CERT_APP, endpoint), 700027);
    emulator.addCertificate(CERT_APP, { pem: certificate.certificatePem });
    emulator.removeCertificate(CERT_APP, certificate.x5tS256);
    await expectCode(await signAssertion(certificate, CERT_APP, endpoint), 700027);
    emulator.addCertificate(CERT_APP, { pem: certificate.certificatePem });
    emulator.removeCertificate(CERT_APP, next.certificatePem);
    await expectCode(await signAssertion(next, CERT_APP, endpoint), 700027);
    expect((await call(await signAssertion(certificate, CERT_APP, endpoint))).status).toBe(200);
    expect(() => emulator.removeCertificate(CERT_APP, next.thumbprintSha256)).toThrow(/no certificate/);
  });

  it("refuses a PEM holding a private key", () => {
    expect(() => emulator.addCertificate(CERT_APP, { pem: certificate.privateKeyPem + certificate.certificatePem })).toThrow(/private key/);
  });
});

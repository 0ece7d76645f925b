// The real @azure/msal-node and @azure/identity acquire tokens from the
// emulator over HTTPS, each in a child process that trusts the emulator CA.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSelfSignedCertificate, startEmulator, type Emulator, type GeneratedCertificate } from "../src/index.js";
import { CERT_APP, CONTOSO, DAEMON, SECRET, runPeer, testConfig } from "./helpers.js";

let emulator: Emulator;
let dir: string;
let certificate: GeneratedCertificate;
let keyPath: string;
let combinedPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-peers-"));
  certificate = await createSelfSignedCertificate({ subject: "peer test" });
  emulator = await startEmulator({ https: true, certificateDir: join(dir, "tls"), config: testConfig() });
  emulator.addCertificate(CERT_APP, { pem: certificate.certificatePem });
  emulator.grant({ tenant: CONTOSO, clientId: CERT_APP, resource: "api://orders", roles: ["Orders.Admin"] });
  keyPath = join(dir, "key.pem");
  combinedPath = join(dir, "cert-and-key.pem");
  await writeFile(keyPath, certificate.privateKeyPem, { mode: 0o600 });
  await writeFile(combinedPath, certificate.privateKeyPem + certificate.certificatePem, { mode: 0o600 });
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("@azure/msal-node ConfidentialClientApplication", () => {
  it("acquires a token with a client secret (knownAuthorities)", async () => {
    emulator.resetRequests();
    const result = await runPeer(emulator.caCertificatePath!, {
      mode: "msal-secret",
      url: emulator.url,
      authority: emulator.authority("contoso.onmicrosoft.com"),
      discovery: "known-authorities",
      clientId: DAEMON,
      secret: SECRET,
      scope: "api://orders/.default",
    });
    expect(result).toMatchObject({ ok: true, cachedSame: true });
    expect(result.claims).toMatchObject({ aud: "api://orders", azp: DAEMON, azpacr: "1", tid: CONTOSO, iss: emulator.issuer(CONTOSO) });
    expect(result.claims.roles).toEqual(["Orders.Read.All", "Orders.Write.All"]);
    expect(emulator.tokenRequestCount({ clientId: DAEMON })).toBe(1);
    expect(emulator.requests.find((r) => r.method === "POST")).toMatchObject({ clientAuth: "secret_post", status: 200 });
  });

  it("acquires a token with a certificate (thumbprintSha256, instance discovery from the emulator)", async () => {
    emulator.resetRequests();
    const result = await runPeer(emulator.caCertificatePath!, {
      mode: "msal-cert",
      url: emulator.url,
      authority: emulator.authority(CONTOSO),
      discovery: "cloud-discovery-metadata",
      clientId: CERT_APP,
      thumbprintSha256: certificate.thumbprintSha256,
      keyPemPath: keyPath,
      scope: "api://orders/.default",
    });
    expect(result).toMatchObject({ ok: true });
    expect(result.claims).toMatchObject({ aud: "api://orders", azp: CERT_APP, azpacr: "2", roles: ["Orders.Admin"] });
    expect(emulator.requests.find((r) => r.method === "POST")).toMatchObject({ clientAuth: "assertion", status: 200 });
  });

  it("surfaces an AADSTS error from the emulator", async () => {
    const result = await runPeer(emulator.caCertificatePath!, {
      mode: "msal-secret",
      url: emulator.url,
      authority: emulator.authority(CONTOSO),
      discovery: "known-authorities",
      clientId: DAEMON,
      secret: "wrong",
      scope: "api://orders/.default",
    });
    expect(result.ok).toBe(false);
    expect(result.errorCode).toBe("invalid_client");
    expect(result.message).toContain("AADSTS7000215");
  });
});

describe("@azure/identity", () => {
  it("ClientSecretCredential acquires a token", async () => {
    const result = await runPeer(emulator.caCertificatePath!, {
      mode: "identity-secret",
      url: emulator.url,
      tenant: CONTOSO,
      clientId: DAEMON,
      secret: SECRET,
      scope: "api://orders/.default",
    });
    expect(result).toMatchObject({ ok: true });
    expect(result.claims).toMatchObject({ aud: "api://orders", azp: DAEMON, azpacr: "1", idtyp: "app" });
  });

  it("ClientCertificateCredential acquires a token with a PEM file", async () => {
    const result = await runPeer(emulator.caCertificatePath!, {
      mode: "identity-cert",
      url: emulator.url,
      tenant: "contoso.onmicrosoft.com",
      clientId: CERT_APP,
      pemPath: combinedPath,
      scope: "api://orders/.default",
    });
    expect(result).toMatchObject({ ok: true });
    expect(result.claims).toMatchObject({ aud: "api://orders", azp: CERT_APP, azpacr: "2", tid: CONTOSO });
  });
});

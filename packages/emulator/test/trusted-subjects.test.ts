// Subject name + issuer (SN+I): an app that trusts a subject and an issuing CA accepts
// any certificate with that subject from that CA when the assertion carries x5c, so a
// freshly issued certificate works with no new registration. The client here is the real
// @azure/msal-node (clientCertificate.x5c) over HTTPS; its network module trusts the
// emulator's CA (msal-node's own uses fetch, which reads the CA only at process start).
import { ConfidentialClientApplication, type INetworkModule, type NetworkResponse } from "@azure/msal-node";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createSelfSignedCertificate,
  EmulatorConfigError,
  issueCertificate,
  startEmulator,
  validateEmulatorConfigShape,
  type Emulator,
  type GeneratedCertificate,
} from "../src/index.js";
import { CERT_APP, CONTOSO, testConfig } from "./helpers.js";

const SUBJECT = "orders-daemon.contoso.test";
const SCOPE = "api://orders/.default";
let emulator: Emulator;
let ca: GeneratedCertificate;
let otherCa: GeneratedCertificate;
let dir: string;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([
    createSelfSignedCertificate({ subject: "Contoso Issuing CA", ca: true }),
    createSelfSignedCertificate({ subject: "Contoso Issuing CA", ca: true }),
  ]);
  dir = await mkdtemp(join(tmpdir(), "emulator-sni-"));
  emulator = await startEmulator({ config: testConfig(), https: true, certificateDir: dir });
  emulator.trustCertificateSubject(CERT_APP, { subjectName: `CN=${SUBJECT}`, issuerPem: ca.certificatePem });
  emulator.grant({ tenant: CONTOSO, clientId: CERT_APP, resource: "api://orders", roles: ["Orders.Admin"] });
});
afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  emulator.resetRequests();
});

const network: INetworkModule = {
  sendGetRequestAsync: <T>(url: string, options?: { headers?: Record<string, string> }) => send<T>(url, "GET", options?.headers, undefined),
  sendPostRequestAsync: <T>(url: string, options?: { headers?: Record<string, string>; body?: string }) => send<T>(url, "POST", options?.headers, options?.body),
};

function send<T>(url: string, method: string, headers: Record<string, string> | undefined, body: string | undefined): Promise<NetworkResponse<T>> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers: headers ?? {}, ca: emulator.caCertificatePem }, (incoming) => {
      let text = "";
      incoming.setEncoding("utf8");
      incoming.on("data", (chunk: string) => (text += chunk));
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers as Record<string, string>, body: JSON.parse(text) as T }));
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/** msal-node with `certificate`'s key; the chain (leaf, then CA) in x5c unless `sendChain` is false. */
async function acquire(certificate: GeneratedCertificate, issuer: GeneratedCertificate, sendChain = true) {
  const host = new URL(emulator.url).host;
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: CERT_APP,
      authority: `https://${host}/${CONTOSO}`,
      knownAuthorities: [host],
      clientCertificate: {
        thumbprintSha256: certificate.thumbprintSha256,
        privateKey: certificate.privateKeyPem,
        ...(sendChain ? { x5c: certificate.certificatePem + issuer.certificatePem } : {}),
      },
    },
    system: { networkClient: network },
  });
  return msal.acquireTokenByClientCredential({ scopes: [SCOPE], skipCache: true });
}

describe("subject name + issuer (SN+I)", () => {
  it("accepts any certificate with the subject from the trusted CA when x5c is sent: rotation without re-registering", async () => {
    const first = await issueCertificate(ca, { subject: SUBJECT });
    const renewed = await issueCertificate(ca, { subject: SUBJECT });
    expect(renewed.thumbprintSha256).not.toBe(first.thumbprintSha256);
    for (const certificate of [first, renewed]) {
      const result = await acquire(certificate, ca);
      const claims = JSON.parse(Buffer.from(result?.accessToken.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
      expect(claims).toMatchObject({ azp: CERT_APP, azpacr: "2", roles: ["Orders.Admin"] });
    }
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => [r.clientAuth, r.status])).toEqual([
      ["assertion", 200],
      ["assertion", 200],
    ]);
  });

  it("refuses the same certificate without x5c with AADSTS700027, as Entra does", async () => {
    const certificate = await issueCertificate(ca, { subject: SUBJECT });
    await expect(acquire(certificate, ca, false)).rejects.toThrow(/AADSTS700027/);
  });

  it("refuses another subject, and the same subject from another CA", async () => {
    const otherSubject = await issueCertificate(ca, { subject: "someone-else.contoso.test" });
    await expect(acquire(otherSubject, ca)).rejects.toThrow(/AADSTS700027/);
    // The other CA has the same name: only its signature tells it apart.
    const forged = await issueCertificate(otherCa, { subject: SUBJECT });
    await expect(acquire(forged, otherCa)).rejects.toThrow(/AADSTS700027/);
    // A chain that names the trusted CA but was not signed by it.
    await expect(acquire(forged, ca)).rejects.toThrow(/AADSTS700027/);
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => r.errorCodes)).toEqual([[700027], [700027], [700027]]);
  });

  it("reads trustedCertificateSubjects from a configuration, and refuses an issuer that is not a CA", async () => {
    const leafPem = (await createSelfSignedCertificate({ subject: "not a ca" })).certificatePem;
    const config = testConfig();
    const app = config.applications.find((application) => application.clientId === CERT_APP)!;
    app.trustedCertificateSubjects = [{ subjectName: SUBJECT, issuerPem: ca.certificatePem }];
    expect(() => validateEmulatorConfigShape(config)).not.toThrow();
    app.trustedCertificateSubjects = [{ subjectName: SUBJECT, issuerPem: leafPem }];
    expect(() => validateEmulatorConfigShape(config)).toThrow(EmulatorConfigError);
    expect(() => emulator.trustCertificateSubject(CERT_APP, { subjectName: SUBJECT, issuerPem: leafPem })).toThrow(/is not a CA certificate/);
    expect(() => emulator.trustCertificateSubject(CERT_APP, { subjectName: SUBJECT, issuerPem: ca.certificatePem + ca.privateKeyPem })).toThrow(/contains a private key/);
  });
});

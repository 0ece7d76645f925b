import { createHash, generateKeyPairSync, X509Certificate } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { certificateThumbprints, createSelfSignedCertificate } from "../src/index.js";
import { buildCertificate, toPem } from "../src/lib/x509.js";

describe("createSelfSignedCertificate", () => {
  it("creates a certificate Node parses, signed by its own key, with consistent thumbprints", async () => {
    const notBefore = new Date("2030-01-01T00:00:00Z");
    const notAfter = new Date("2055-06-01T00:00:00Z"); // after 2049: GeneralizedTime
    const certificate = await createSelfSignedCertificate({ subject: "orders-daemon", notBefore, notAfter });
    const x509 = new X509Certificate(certificate.certificatePem);
    expect(x509.subject).toContain("CN=orders-daemon");
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(certificate.privateKey)).toBe(true);
    expect(new Date(x509.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(x509.validTo).toISOString()).toBe(notAfter.toISOString());
    expect(x509.ca).toBe(false);
    expect(certificate.thumbprintSha1).toBe(x509.fingerprint.replace(/:/g, ""));
    expect(certificate.thumbprintSha256).toBe(x509.fingerprint256.replace(/:/g, ""));
    expect(certificate.x5t).toBe(createHash("sha1").update(x509.raw).digest("base64url"));
    expect(certificate.x5tS256).toBe(createHash("sha256").update(x509.raw).digest("base64url"));
    expect(certificateThumbprints(x509)).toEqual({
      sha1Hex: certificate.thumbprintSha1,
      sha256Hex: certificate.thumbprintSha256,
      x5t: certificate.x5t,
      x5tS256: certificate.x5tS256,
    });
  });

  it("keeps the private key out of JSON.stringify and util.inspect", async () => {
    const certificate = await createSelfSignedCertificate();
    const keyBody = certificate.privateKeyPem.split("\n")[1]!;
    expect(certificate.privateKeyPem).toContain("BEGIN PRIVATE KEY");
    expect(JSON.stringify(certificate)).not.toContain(keyBody);
    expect(inspect(certificate, { depth: 5 })).not.toContain(keyBody);
    expect(inspect(certificate)).not.toContain("privateKey");
  });

  it("rejects an empty validity range", async () => {
    await expect(createSelfSignedCertificate({ notBefore: new Date(1000), notAfter: new Date(1000) })).rejects.toThrow(/notAfter/);
  });
});

describe("buildCertificate", () => {
  it("builds a CA and a leaf with IP and DNS subject alternative names", () => {
    const ca = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const leaf = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Date.now();
    const caCert = new X509Certificate(
      buildCertificate({ subject: "test CA", publicKey: ca.publicKey, signingKey: ca.privateKey, notBefore: new Date(now), notAfter: new Date(now + 86_400_000), isCa: true }),
    );
    const leafCert = new X509Certificate(
      toPem(
        "CERTIFICATE",
        buildCertificate({
          subject: "leaf",
          issuer: "test CA",
          publicKey: leaf.publicKey,
          issuerPublicKey: ca.publicKey,
          signingKey: ca.privateKey,
          notBefore: new Date(now),
          notAfter: new Date(now + 86_400_000),
          altNames: ["localhost", "127.0.0.1", "::1", "fe80::1:2", "emulator.test"],
          extendedKeyUsage: ["serverAuth"],
        }),
      ),
    );
    expect(caCert.ca).toBe(true);
    expect(leafCert.checkIssued(caCert)).toBe(true);
    expect(leafCert.verify(caCert.publicKey)).toBe(true);
    expect(leafCert.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2, DNS:emulator.test");
    expect(leafCert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });
});

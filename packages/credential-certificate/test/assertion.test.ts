import { constants, sign as cryptoSign } from "node:crypto";
import { inspect } from "node:util";
import { AbortError, ConfigurationError, CredentialError, type CredentialContext } from "@daemon-auth/core";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { certificateCredential, type CertificateSigner } from "../src/index.js";
import { keyFragments, makeCertificate, type TestCertificate } from "./certificates.js";
import { ENTRA, GENERIC, assertionOf, expectedThumbprints, headerOf, manualClock, verifyAssertion } from "./helpers.js";

const leaf = makeCertificate({ commonName: "daemon-auth assertions" });
const pem = leaf.certificatePem + leaf.keyPem;

/** A Key Vault-style signer over node:crypto that counts its signatures. */
function countingSigner(certificate: TestCertificate): CertificateSigner & { calls: number } {
  const signer = {
    calls: 0,
    certificate: certificate.certificatePem,
    async sign(input: Uint8Array, algorithm: "PS256" | "RS256") {
      signer.calls += 1;
      const options =
        algorithm === "PS256" ? { key: certificate.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : certificate.key;
      return new Uint8Array(cryptoSign("sha256", input, options));
    },
  };
  return signer;
}

describe("assertion claims and header", () => {
  it("Entra ID: PS256 with x5t#S256, RFC 7523 claims, 10-minute lifetime", async () => {
    const clock = manualClock(Math.floor(Date.now() / 1000) * 1000 + 999);
    const credential = certificateCredential({ pem, clock });
    const assertion = assertionOf(await credential.getAuthentication(ENTRA));
    const { header, payload } = await verifyAssertion(assertion, leaf.x509, ENTRA, "PS256");
    expect(header).toEqual({ alg: "PS256", typ: "JWT", "x5t#S256": expectedThumbprints(leaf.x509).x5tS256 });
    const now = Math.floor(clock.now() / 1000);
    expect(payload).toMatchObject({ aud: ENTRA.tokenEndpoint, iss: ENTRA.clientId, sub: ENTRA.clientId, nbf: now, iat: now, exp: now + 600 });
  });

  it("generic servers: RS256 with x5t (SHA-1)", async () => {
    const assertion = assertionOf(await certificateCredential({ pem }).getAuthentication(GENERIC));
    const { header } = await verifyAssertion(assertion, leaf.x509, GENERIC, "RS256");
    expect(header).toEqual({ alg: "RS256", typ: "JWT", x5t: expectedThumbprints(leaf.x509).x5t });
  });

  it("algorithm and thumbprint can be chosen", async () => {
    const credential = certificateCredential({ pem, algorithm: "RS256", thumbprint: "both", assertionLifetimeMs: 300_000 });
    const assertion = assertionOf(await credential.getAuthentication(ENTRA));
    const { header, payload } = await verifyAssertion(assertion, leaf.x509, ENTRA, "RS256");
    expect(header["x5t#S256"]).toBe(expectedThumbprints(leaf.x509).x5tS256);
    expect(header.x5t).toBe(expectedThumbprints(leaf.x509).x5t);
    expect(payload.exp! - payload.nbf!).toBe(300);

    const generic = certificateCredential({ pem, algorithm: "PS256", thumbprint: "x5t#S256" });
    const genericHeader = headerOf(assertionOf(await generic.getAuthentication(GENERIC)));
    expect(genericHeader).toEqual({ alg: "PS256", typ: "JWT", "x5t#S256": expectedThumbprints(leaf.x509).x5tS256 });
  });

  it("exposes thumbprints and validity like the Azure portal shows them", async () => {
    const credential = certificateCredential({ pem });
    expect(credential.kind).toBe("certificate");
    expect(credential.thumbprints).toEqual({
      sha1: leaf.x509.fingerprint.replaceAll(":", ""),
      sha256: leaf.x509.fingerprint256.replaceAll(":", ""),
    });
    expect(credential.notBefore?.getTime()).toBe(new Date(leaf.x509.validFrom).getTime());
    expect(credential.notAfter?.getTime()).toBe(new Date(leaf.x509.validTo).getTime());
    expect(credential.description).toBe(`certificate CN=daemon-auth assertions, x5t#S256=${expectedThumbprints(leaf.x509).x5tS256}`);
    const info = await credential.certificateInfo();
    expect(info).toMatchObject({ subject: "CN=daemon-auth assertions", key: "rsa", chainLength: 1, source: "the `pem` option" });
  });
});

describe("signer (key held elsewhere)", () => {
  it("signs PS256 for Entra ID and RS256 for generic servers through the signer", async () => {
    const signer = countingSigner(leaf);
    const credential = certificateCredential({ signer, sendCertificateChain: true });
    const entra = assertionOf(await credential.getAuthentication(ENTRA));
    const { header } = await verifyAssertion(entra, leaf.x509, ENTRA, "PS256");
    expect(header.x5c).toEqual([leaf.x509.raw.toString("base64")]);
    await verifyAssertion(assertionOf(await credential.getAuthentication(GENERIC)), leaf.x509, GENERIC, "RS256");
    expect(signer.calls).toBe(2);
    expect((await credential.certificateInfo()).key).toBe("remote");
  });

  it("reports a failing signer as a CredentialError and signs again on the next call", async () => {
    const signer = countingSigner(leaf);
    let fail = true;
    const credential = certificateCredential({
      signer: {
        certificate: signer.certificate,
        sign: async (input, algorithm) => {
          if (fail) throw new Error("403 Forbidden from the vault");
          return signer.sign(input, algorithm);
        },
      },
    });
    const error = await credential.getAuthentication(ENTRA).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toMatch(/signer failed/);
    fail = false;
    await verifyAssertion(assertionOf(await credential.getAuthentication(ENTRA)), leaf.x509, ENTRA, "PS256");
  });

  it("rejects a signer that resolves no signature", async () => {
    const credential = certificateCredential({
      signer: { certificate: leaf.certificatePem, sign: async () => "nope" as unknown as Uint8Array },
    });
    await expect(credential.getAuthentication(ENTRA)).rejects.toThrow(/returned no signature/);
  });
});

describe("assertion reuse", () => {
  it("Entra ID: 1,000 audiences round robin sign once each, then again only near expiry", async () => {
    const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
    // Only the number of signatures matters here, so skip the RSA work.
    const signer = { calls: 0, certificate: leaf.certificatePem, sign: async () => new Uint8Array([(signer.calls += 1)]) };
    const credential = certificateCredential({ signer, clock });
    const contexts: CredentialContext[] = Array.from({ length: 1000 }, (_, tenant) => ({
      ...ENTRA,
      tokenEndpoint: `https://login.microsoftonline.com/tenant-${tenant}/oauth2/v2.0/token`,
    }));
    const round = async () => {
      const assertions = [];
      for (const context of contexts) assertions.push(assertionOf(await credential.getAuthentication(context)));
      return assertions;
    };

    const first = await round();
    expect(signer.calls).toBe(1000);
    expect(new Set(first.map((assertion) => decodeJwt(assertion).aud)).size).toBe(1000);

    const same = (assertions: string[]) => assertions.every((assertion, index) => assertion === first[index]);
    clock.advance(60_000);
    expect(same(await round())).toBe(true);
    clock.advance(7 * 60_000 - 1); // 1 ms before the 2-minute reuse margin
    expect(same(await round())).toBe(true);
    expect(signer.calls).toBe(1000);

    clock.advance(1);
    const renewed = await round();
    expect(signer.calls).toBe(2000);
    expect(renewed.every((assertion, index) => assertion !== first[index])).toBe(true);
  });

  it("concurrent first uses for one audience sign once", async () => {
    const signer = countingSigner(leaf);
    const credential = certificateCredential({ signer });
    const assertions = await Promise.all(Array.from({ length: 50 }, () => credential.getAuthentication(ENTRA)));
    expect(signer.calls).toBe(1);
    expect(new Set(assertions.map(assertionOf)).size).toBe(1);
  });

  it("the client id is part of the reuse key", async () => {
    const credential = certificateCredential({ pem });
    const a = assertionOf(await credential.getAuthentication(ENTRA));
    const b = assertionOf(await credential.getAuthentication({ ...ENTRA, clientId: "other-client" }));
    expect(decodeJwt(b).iss).toBe("other-client");
    expect(a).not.toBe(b);
  });

  it("generic servers get a fresh assertion (new jti) per call unless reuseAssertions is set", async () => {
    const signer = countingSigner(leaf);
    const credential = certificateCredential({ signer });
    const jtis = new Set<unknown>();
    for (let call = 0; call < 5; call += 1) jtis.add(decodeJwt(assertionOf(await credential.getAuthentication(GENERIC))).jti);
    expect(jtis.size).toBe(5);
    expect(signer.calls).toBe(5);

    const reusing = certificateCredential({ pem, reuseAssertions: true });
    const first = assertionOf(await reusing.getAuthentication(GENERIC));
    expect(assertionOf(await reusing.getAuthentication(GENERIC))).toBe(first);

    const notReusing = certificateCredential({ pem, reuseAssertions: false });
    const one = assertionOf(await notReusing.getAuthentication(ENTRA));
    expect(assertionOf(await notReusing.getAuthentication(ENTRA))).not.toBe(one);
  });

  it("reload() and dispose() drop reused assertions", async () => {
    const signer = countingSigner(leaf);
    const credential = certificateCredential({ signer });
    await credential.getAuthentication(ENTRA);
    await credential.reload({ error: "invalid_client", errorCodes: [700027] });
    await credential.getAuthentication(ENTRA);
    await credential.dispose();
    await credential.dispose();
    await credential.getAuthentication(ENTRA);
    expect(signer.calls).toBe(3);
  });

  it("keeps at most assertionCacheSize assertions, evicting the oldest", async () => {
    const signer = countingSigner(leaf);
    const credential = certificateCredential({ signer, assertionCacheSize: 3 });
    const at = (tenant: number) => credential.getAuthentication({ ...ENTRA, tokenEndpoint: `https://login.example/${tenant}/token` });
    for (const tenant of [0, 1, 2, 3]) await at(tenant);
    expect(signer.calls).toBe(4);
    await at(3);
    await at(2);
    expect(signer.calls).toBe(4);
    await at(0); // evicted: signs again
    expect(signer.calls).toBe(5);
  });
});

describe("signals", () => {
  it("rejects at once with an aborted signal, and stops waiting when the signal fires", async () => {
    const credential = certificateCredential({ pem });
    const controller = new AbortController();
    controller.abort();
    await expect(credential.getAuthentication({ ...ENTRA, signal: controller.signal })).rejects.toBeInstanceOf(AbortError);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const signer = countingSigner(leaf);
    const slow = certificateCredential({
      signer: {
        certificate: signer.certificate,
        sign: async (input, algorithm) => {
          await gate;
          return signer.sign(input, algorithm);
        },
      },
    });
    const waiting = new AbortController();
    const pending = slow.getAuthentication({ ...ENTRA, signal: waiting.signal });
    const other = slow.getAuthentication(ENTRA);
    waiting.abort(new Error("caller gave up"));
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    release();
    // The shared signature still completes for the caller that kept waiting.
    await verifyAssertion(assertionOf(await other), leaf.x509, ENTRA, "PS256");
  });
});

describe("no key material in output", () => {
  it("toString, JSON.stringify and util.inspect print the description only", async () => {
    const password = "pfx-password-never-printed";
    const credential = certificateCredential({
      pem: leaf.certificatePem + leaf.key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: password }).toString(),
      password,
    });
    const assertion = assertionOf(await credential.getAuthentication(ENTRA));
    const printed = [String(credential), JSON.stringify(credential), inspect(credential, { showHidden: true, depth: 10 }), `${credential.description}`];
    for (const output of printed) {
      expect(output).toContain("certificate CN=daemon-auth assertions");
      expect(output).not.toContain(password);
      expect(output).not.toContain(assertion);
      for (const fragment of keyFragments(leaf.keyPem)) expect(output).not.toContain(fragment);
    }
  });

  it("validates the context", async () => {
    const credential = certificateCredential({ pem });
    await expect(credential.getAuthentication({ ...ENTRA, tokenEndpoint: "" })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(credential.getAuthentication({ ...ENTRA, clientId: "" })).rejects.toBeInstanceOf(ConfigurationError);
  });
});

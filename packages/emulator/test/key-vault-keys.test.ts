// The emulated vault's keys and certificates, driven by the unmodified Azure SDK
// clients (CertificateClient, KeyClient, CryptographyClient, SecretClient) over
// HTTPS; signatures are checked with node:crypto against the certificate's key.
import { constants, createHash, createPublicKey, verify, X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { ClientSecretCredential } from "@azure/identity";
import { CertificateClient, type KeyVaultCertificateWithPolicy } from "@azure/keyvault-certificates";
import { CryptographyClient, KeyClient } from "@azure/keyvault-keys";
import { SecretClient } from "@azure/keyvault-secrets";
import { agentPipelinePolicy } from "@daemon-auth/test-utils";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmulatorConfigError, KEY_VAULT_RESOURCE, startEmulator, type Emulator, type EmulatorConfig } from "../src/index.js";
import { CONTOSO, DAEMON, ISV, ISV_SECRET, SECRET, testConfig } from "./helpers.js";

const VAULT_APP = "aaaaaaaa-0000-4000-8000-0000000000aa";
const DATA = Buffer.from("header.payload");

let emulator: Emulator;
let dir: string;
let agent: Agent;
let options: { disableChallengeResourceVerification: true; additionalPolicies: never[] };
let credential: ClientSecretCredential;
let first: KeyVaultCertificateWithPolicy;

function vaultConfig(): EmulatorConfig {
  const config = testConfig();
  config.applications.push({ clientId: VAULT_APP, displayName: "Azure Key Vault", homeTenant: CONTOSO, multiTenant: true, identifierUris: [KEY_VAULT_RESOURCE] });
  return config;
}

function credentialOf(clientId: string, secret: string): ClientSecretCredential {
  return new ClientSecretCredential(CONTOSO, clientId, secret, { authorityHost: emulator.url, disableInstanceDiscovery: true, additionalPolicies: options.additionalPolicies });
}

async function createCertificate(name: string, subject: string): Promise<KeyVaultCertificateWithPolicy> {
  const certificates = new CertificateClient(emulator.vaultUrl, credential, options);
  const poller = await certificates.beginCreateCertificate(name, { issuerName: "Self", subject, exportable: false }, { intervalInMs: 10 });
  return poller.pollUntilDone();
}

function publicKeyOf(certificate: KeyVaultCertificateWithPolicy): ReturnType<typeof createPublicKey> {
  return new X509Certificate(Buffer.from(certificate.cer!)).publicKey;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-vault-keys-"));
  emulator = await startEmulator({ https: true, certificateDir: join(dir, "tls"), config: vaultConfig(), keyVault: { keyPermissions: { [ISV]: ["get"] } } });
  agent = new Agent({ ca: emulator.caCertificatePem, keepAlive: false });
  options = { disableChallengeResourceVerification: true, additionalPolicies: [agentPipelinePolicy(agent) as never] };
  credential = credentialOf(DAEMON, SECRET);
  first = await createCertificate("daemon-cert", "CN=orders daemon");
});
afterAll(async () => {
  agent?.destroy();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Key Vault certificates (CertificateClient)", () => {
  it("creates a self-signed certificate whose key lives in the vault", async () => {
    expect(first.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(first.keyId).toBe(`${emulator.vaultUrl}/keys/daemon-cert/${first.properties.version}`);
    expect(first.secretId).toBe(`${emulator.vaultUrl}/secrets/daemon-cert/${first.properties.version}`);
    const x509 = new X509Certificate(Buffer.from(first.cer!));
    expect(x509.subject).toContain("CN=orders daemon");
    expect(Buffer.from(first.properties.x509Thumbprint!).toString("hex").toUpperCase()).toBe(createHash("sha1").update(x509.raw).digest("hex").toUpperCase());
    expect(first.policy).toMatchObject({ issuerName: "Self", exportable: false, keyType: "RSA", keySize: 2048 });
    expect(first.properties.expiresOn!.getTime()).toBe(new Date(x509.validTo).getTime());
  });

  it("serves the latest version and each version; a new version is a rotation with a new key", async () => {
    const certificates = new CertificateClient(emulator.vaultUrl, credential, options);
    const rotated = await createCertificate("rotating-cert", "CN=rotating");
    const next = await createCertificate("rotating-cert", "CN=rotating");
    expect(next.properties.version).not.toBe(rotated.properties.version);
    expect((await certificates.getCertificate("rotating-cert")).properties.version).toBe(next.properties.version);
    const old = await certificates.getCertificateVersion("rotating-cert", rotated.properties.version!);
    expect(Buffer.from(old.cer!).equals(Buffer.from(rotated.cer!))).toBe(true);
    expect(publicKeyOf(next).equals(publicKeyOf(rotated))).toBe(false);
    const versions: string[] = [];
    for await (const properties of certificates.listPropertiesOfCertificateVersions("rotating-cert")) versions.push(properties.version!);
    expect(versions.sort()).toEqual([rotated.properties.version, next.properties.version].sort());
    await expect(certificates.getCertificate("no-such-cert")).rejects.toMatchObject({ statusCode: 404, code: "CertificateNotFound" });
  });

  it("gives the emulator's own createVaultCertificate the same public parts", async () => {
    const made = await emulator.createVaultCertificate("facade-cert", { subject: "CN=facade" });
    const read = await new CertificateClient(emulator.vaultUrl, credential, options).getCertificate("facade-cert");
    expect(read.properties.version).toBe(made.version);
    expect(new X509Certificate(made.certificatePem).raw.equals(Buffer.from(read.cer!))).toBe(true);
    expect(inspect(made) + JSON.stringify(made)).not.toContain("PRIVATE KEY");
  });

  it("never hands out a non-exportable private key: the certificate's secret holds the certificate only", async () => {
    const secret = await new SecretClient(emulator.vaultUrl, credential, options).getSecret("daemon-cert");
    expect(secret.properties.contentType).toBe("application/x-pkcs12");
    expect(secret.properties.managed).toBe(true);
    expect(secret.properties.certificateKeyId).toBe(first.keyId);
    const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(Buffer.from(secret.value!, "base64").toString("binary")), false, null as unknown as string);
    expect(p12.getBags({ bagType: forge.pki.oids["pkcs8ShroudedKeyBag"]! })[forge.pki.oids["pkcs8ShroudedKeyBag"]!] ?? []).toEqual([]);
    expect(p12.getBags({ bagType: forge.pki.oids["keyBag"]! })[forge.pki.oids["keyBag"]!] ?? []).toEqual([]);
    expect(p12.getBags({ bagType: forge.pki.oids["certBag"]! })[forge.pki.oids["certBag"]!]).toHaveLength(1);
  });

  it("refuses what it cannot issue: another issuer, an EC key, a bad name", async () => {
    const certificates = new CertificateClient(emulator.vaultUrl, credential, options);
    await expect(certificates.beginCreateCertificate("ca-cert", { issuerName: "Unknown", subject: "CN=x" })).rejects.toMatchObject({ statusCode: 400, code: "BadParameter" });
    await expect(certificates.beginCreateCertificate("ec-cert", { issuerName: "Self", subject: "CN=x", keyType: "EC" })).rejects.toMatchObject({ statusCode: 400 });
    await expect(emulator.createVaultCertificate("bad name")).rejects.toThrow(EmulatorConfigError);
  });

  it("puts the private key in the secret of a certificate made exportable", async () => {
    await emulator.createVaultCertificate("exportable-cert", { exportable: true, contentType: "application/x-pem-file" });
    const secret = await new SecretClient(emulator.vaultUrl, credential, options).getSecret("exportable-cert");
    expect(secret.value).toContain("-----BEGIN PRIVATE KEY-----");
  });
});

describe("Key Vault keys (KeyClient, CryptographyClient)", () => {
  it("signs PS256 and RS256 digests that verify against the certificate's public key", async () => {
    const crypto = new CryptographyClient(first.keyId!, credential, options);
    const ps = await crypto.signData("PS256", DATA);
    expect(ps.keyID).toBe(first.keyId);
    expect(verify("sha256", DATA, { key: publicKeyOf(first), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, ps.result)).toBe(true);
    const rs = await crypto.signData("RS256", DATA);
    expect(verify("sha256", DATA, publicKeyOf(first), rs.result)).toBe(true);
    // verify (a digest) runs in the vault; the SDK's verifyData would check locally.
    const digest = createHash("sha256").update(DATA).digest();
    expect((await crypto.verify("PS256", digest, ps.result)).result).toBe(true);
    expect((await crypto.verify("RS256", digest, rs.result)).result).toBe(true);
    expect((await crypto.verify("PS256", createHash("sha256").update("tampered").digest(), ps.result)).result).toBe(false);
    // The newest version, without a version in the key id.
    const latest = await new CryptographyClient(`${emulator.vaultUrl}/keys/daemon-cert`, credential, options).signData("PS256", DATA);
    expect(verify("sha256", DATA, { key: publicKeyOf(first), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, latest.result)).toBe(true);
  });

  it("answers getKey with the public key only, marked managed and non-exportable", async () => {
    const key = await new KeyClient(emulator.vaultUrl, credential, options).getKey("daemon-cert");
    expect(key.properties.managed).toBe(true);
    expect(key.properties.exportable).toBe(false);
    expect(key.key?.d).toBeUndefined();
    const jwk = publicKeyOf(first).export({ format: "jwk" });
    expect(Buffer.from(key.key!.n!).toString("base64url")).toBe(jwk.n);
    const made = await new KeyClient(emulator.vaultUrl, credential, options).createRsaKey("plain-key", { keySize: 2048 });
    expect(made.key?.kty).toBe("RSA");
    const signed = await new CryptographyClient(made, credential, options).signData("RS256", DATA);
    expect(verify("sha256", DATA, createPublicKey({ key: { kty: "RSA", n: Buffer.from(made.key!.n!).toString("base64url"), e: Buffer.from(made.key!.e!).toString("base64url") }, format: "jwk" }), signed.result)).toBe(true);
  });

  it("answers 403 ForbiddenByRbac to a caller without the sign permission, and 400 to a bad digest", async () => {
    const reader = credentialOf(ISV, ISV_SECRET);
    const crypto = new CryptographyClient(first.keyId!, reader, options);
    await expect(crypto.sign("PS256", createHash("sha256").update(DATA).digest())).rejects.toMatchObject({ statusCode: 403, code: "Forbidden" });
    expect((await new KeyClient(emulator.vaultUrl, reader, options).getKey("daemon-cert")).name).toBe("daemon-cert");
    await expect(new CryptographyClient(first.keyId!, credential, options).sign("PS256", Buffer.from("short"))).rejects.toMatchObject({ statusCode: 400, code: "BadParameter" });
  });

  it("challenges a request without a token as the secrets route does", async () => {
    const response = await new Promise<{ status: number; header: string | undefined; body: string }>((resolve, reject) => {
      const request = httpsRequest(`${emulator.vaultUrl}/keys/daemon-cert?api-version=7.6`, { agent }, (answer) => {
        let body = "";
        answer.on("data", (chunk: Buffer) => (body += chunk.toString()));
        answer.on("end", () => resolve({ status: answer.statusCode ?? 0, header: answer.headers["www-authenticate"], body }));
      });
      request.on("error", reject);
      request.end();
    });
    expect(response.status).toBe(401);
    expect(response.header).toBe(`Bearer authorization="${emulator.url}/${CONTOSO}", resource="https://vault.azure.net"`);
  });
});

// keyVaultCertificateSigner end to end over HTTPS: the certificate is created in the
// emulator's vault by the real CertificateClient with a non-exportable key; the vault is
// reached through a client-secret daemon client bridged by toTokenCredential; the daemon
// gets app tokens with assertions Key Vault signs — through a certificate rotation.
import { constants, createHash, verify, X509Certificate } from "node:crypto";
import { inspect } from "node:util";
import { CertificateClient, type KeyVaultCertificateWithPolicy } from "@azure/keyvault-certificates";
import { toTokenCredential } from "@daemon-auth/azure";
import { CredentialError, type DaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyVaultCertificateCredential, keyVaultCertificateSigner, type KeyVaultClientOptions } from "../src/index.js";
import { claimsOf, ids, manualClock, READER_APP, READER_SECRET, startVaultFixture, type VaultFixture } from "./helpers.js";

const LIMITED_APP = "aaaaaaaa-0000-4000-8000-0000000000cc";
const LIMITED_SECRET = "vault-limited-secret-value";

let fixture: VaultFixture;
let reader: DaemonClient;
let clientOptions: KeyVaultClientOptions;

beforeAll(async () => {
  fixture = await startVaultFixture({}, { [LIMITED_APP]: ["get"] });
  fixture.emulator.addApplication({ clientId: LIMITED_APP, displayName: "vault reader without sign", homeTenant: ids.tenantId, secrets: [{ value: LIMITED_SECRET }] });
  reader = fixture.appClient(READER_APP, clientSecret(READER_SECRET));
  clientOptions = fixture.clientOptions;
});
afterAll(async () => {
  await reader?.dispose();
  await fixture?.close();
});

/** Creates (or rotates) a certificate in the vault with the SDK, as an operator would. */
async function createInVault(name: string): Promise<KeyVaultCertificateWithPolicy> {
  const certificates = new CertificateClient(fixture.emulator.vaultUrl, fixture.vaultCredential, clientOptions);
  const poller = await certificates.beginCreateCertificate(name, { issuerName: "Self", subject: `CN=${name}`, exportable: false }, { intervalInMs: 10 });
  return poller.pollUntilDone();
}

function pemOf(certificate: KeyVaultCertificateWithPolicy): string {
  return new X509Certificate(Buffer.from(certificate.cer!)).toString();
}

function signs(name: string): string[] {
  return fixture.emulator.requests.filter((request) => request.method === "POST" && request.path.startsWith(`/keys/${name}/`) && request.path.endsWith("/sign")).map((request) => request.path);
}

function signer(name: string, extra: { pollIntervalMs?: number; clock?: ReturnType<typeof manualClock>; algorithm?: "PS256" | "RS256" } = {}) {
  return keyVaultCertificateSigner({ vaultUrl: fixture.emulator.vaultUrl, certificateName: name, credential: toTokenCredential(reader), clientOptions, ...extra });
}

describe("keyVaultCertificateSigner", () => {
  it("signs assertions in the vault that verify with the certificate's public key (PS256, x5t#S256)", async () => {
    const certificate = await createInVault("assertion-cert");
    const credential = signer("assertion-cert");
    const context = { tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" as const };
    const { clientAssertion } = (await credential.getAuthentication(context)) as { clientAssertion: string };
    const [header, payload, signature] = clientAssertion.split(".") as [string, string, string];
    const x509 = new X509Certificate(Buffer.from(certificate.cer!));
    expect(JSON.parse(Buffer.from(header, "base64url").toString())).toMatchObject({ alg: "PS256", "x5t#S256": createHash("sha256").update(x509.raw).digest("base64url") });
    expect(claimsOf(clientAssertion)).toMatchObject({ aud: context.tokenEndpoint, iss: ids.daemonClientId, sub: ids.daemonClientId });
    const input = Buffer.from(`${header}.${payload}`);
    expect(verify("sha256", input, { key: x509.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(signature, "base64url"))).toBe(true);

    // RS256 when asked, for generic servers or by choice.
    const rs = signer("assertion-cert", { algorithm: "RS256" });
    const rsAssertion = ((await rs.getAuthentication(context)) as { clientAssertion: string }).clientAssertion.split(".") as [string, string, string];
    expect(verify("sha256", Buffer.from(`${rsAssertion[0]}.${rsAssertion[1]}`), x509.publicKey, Buffer.from(rsAssertion[2], "base64url"))).toBe(true);
  });

  it("gets app tokens for a daemon whose key stays in the vault, reusing the signed assertion, through a rotation", async () => {
    const first = await createInVault("daemon-cert");
    fixture.emulator.addCertificate(ids.daemonClientId, { pem: pemOf(first) });
    const credential = signer("daemon-cert");
    const client = fixture.daemonClient(credential);
    fixture.emulator.resetRequests();

    const token = await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    expect(token.source).toBe("network");
    expect(claimsOf(token.accessToken)).toMatchObject({ azp: ids.daemonClientId, azpacr: "2", roles: ["Orders.Read.All"] });
    await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    // One signature in the vault for both token requests: the assertion is reused per audience.
    expect(signs("daemon-cert")).toEqual([`/keys/daemon-cert/${first.properties.version}/sign`]);
    expect(credential.description).toContain(`certificate "daemon-cert" (version ${first.properties.version})`);

    // Rotate: a new version in the vault, trusted by the app; the old certificate retired.
    const second = await createInVault("daemon-cert");
    fixture.emulator.addCertificate(ids.daemonClientId, { pem: pemOf(second) });
    fixture.emulator.removeCertificate(ids.daemonClientId, pemOf(first));
    fixture.emulator.resetRequests();
    const rotated = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(rotated.source).toBe("network");
    const posts = fixture.emulator.requests.filter((request) => request.method === "POST" && request.path.endsWith("/token")).map((request) => [request.status, request.errorCodes?.[0]]);
    expect(posts).toEqual([[401, 700027], [200, undefined]]);
    expect(signs("daemon-cert")).toEqual([`/keys/daemon-cert/${second.properties.version}/sign`]);
    expect(credential.description).toContain(`(version ${second.properties.version})`);
    await client.dispose();
  });

  it("picks up a new version every pollIntervalMs, on use, without a rejection", async () => {
    const clock = manualClock();
    const first = await createInVault("polled-cert");
    const credential = signer("polled-cert", { pollIntervalMs: 60_000, clock });
    const context = { tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" as const };
    const thumbprintOf = async (): Promise<unknown> => JSON.parse(Buffer.from(((await credential.getAuthentication(context)) as { clientAssertion: string }).clientAssertion.split(".")[0]!, "base64url").toString())["x5t#S256"];
    const x5tOf = (certificate: KeyVaultCertificateWithPolicy): string => createHash("sha256").update(Buffer.from(certificate.cer!)).digest("base64url");
    expect(await thumbprintOf()).toBe(x5tOf(first));
    const second = await createInVault("polled-cert");
    clock.advance(59_000);
    expect(await thumbprintOf()).toBe(x5tOf(first));
    clock.advance(1_000);
    expect(await thumbprintOf()).toBe(x5tOf(second));
    await credential.dispose?.();
  });

  it("never gets the private key: the certificate's secret has none, so the secret-based credential refuses it", async () => {
    await createInVault("locked-cert");
    const secret = await fixture.secretClient().getSecret("locked-cert");
    const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(Buffer.from(secret.value!, "base64").toString("binary")), false, null as unknown as string);
    const keyBags = [forge.pki.oids["keyBag"]!, forge.pki.oids["pkcs8ShroudedKeyBag"]!].flatMap((bagType) => p12.getBags({ bagType })[bagType] ?? []);
    expect(keyBags).toEqual([]);
    const fromSecret = keyVaultCertificateCredential({ secretClient: fixture.secretClient(), secretName: "locked-cert" });
    const error = await fromSecret.getAuthentication({ tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toContain("keyVaultCertificateSigner");
  });

  it("says what to do when the identity may not sign, and leaks no token or assertion", async () => {
    await createInVault("forbidden-cert");
    const limited = fixture.appClient(LIMITED_APP, clientSecret(LIMITED_SECRET));
    const vaultToken = (await limited.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"] })).accessToken;
    const credential = keyVaultCertificateSigner({ vaultUrl: fixture.emulator.vaultUrl, certificateName: "forbidden-cert", credential: toTokenCredential(limited), clientOptions });
    const error = await credential
      .getAuthentication({ tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toContain('did not sign with the key of certificate "forbidden-cert"');
    expect((error as Error).message).toContain("HTTP 403 Forbidden");
    expect((error as Error).message).toContain("Key Vault Crypto User");
    const shown = `${inspect(error, { depth: 20 })}${JSON.stringify(error)}${String((error as Error).stack)}${inspect(credential, { depth: 10 })}${JSON.stringify(credential)}`;
    expect(shown).not.toContain(vaultToken);
    expect(shown).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(shown).not.toContain("PRIVATE KEY");
    await limited.dispose();
  });

  it("reports a missing certificate with the vault, the name and Key Vault's code", async () => {
    const error = await signer("no-such-cert")
      .getAuthentication({ tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toContain(`certificate "no-such-cert" in Key Vault ${fixture.emulator.vaultUrl}`);
    expect((error as Error).message).toContain("HTTP 404 CertificateNotFound");
  });

  it("rejects inconsistent options", () => {
    const credential = toTokenCredential(reader);
    const base = { vaultUrl: fixture.emulator.vaultUrl, certificateName: "x", credential };
    expect(() => keyVaultCertificateSigner({ ...base, vaultUrl: "http://vault" })).toThrow(/^keyVaultCertificateSigner: 'vaultUrl' must be/);
    expect(() => keyVaultCertificateSigner({ ...base, credential: undefined as never })).toThrow(/^keyVaultCertificateSigner: with 'vaultUrl', pass 'credential'/);
    expect(() => keyVaultCertificateSigner({ ...base, certificateName: "bad name" })).toThrow(/^keyVaultCertificateSigner: 'certificateName' must be a Key Vault name/);
    expect(() => keyVaultCertificateSigner({ ...base, algorithm: "ES256" as never })).toThrow(/^keyVaultCertificateSigner: 'algorithm' must be "PS256" or "RS256"/);
    expect(() => keyVaultCertificateSigner({ ...base, pollIntervalMs: -1 })).toThrow(/^keyVaultCertificateSigner: 'pollIntervalMs' must be a positive number of milliseconds/);
  });
});

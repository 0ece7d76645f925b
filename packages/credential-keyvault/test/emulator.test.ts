// End to end over HTTPS: the real SecretClient reads the emulator's vault with an
// @azure/identity token, and core's client acquires app-only tokens with the secret
// or certificate read from it — through rotation too.
import { inspect } from "node:util";
import { CredentialError } from "@daemon-auth/core";
import { createSelfSignedCertificate } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyVaultCertificateCredential, keyVaultSecretCredential } from "../src/index.js";
import { claimsOf, ids, manualClock, pfxBase64, startVaultFixture, vaultReads, type VaultFixture } from "./helpers.js";

let fixture: VaultFixture;

beforeAll(async () => {
  fixture = await startVaultFixture({ "daemon-secret": { value: ids.daemonClientSecret } });
});
afterAll(async () => {
  await fixture?.close();
});

describe("keyVaultSecretCredential", () => {
  it("acquires a token with the client secret kept in the vault", async () => {
    const credential = keyVaultSecretCredential({
      vaultUrl: fixture.emulator.vaultUrl,
      credential: fixture.vaultCredential,
      secretClientOptions: fixture.clientOptions,
      secretName: "daemon-secret",
    });
    const client = fixture.daemonClient(credential);
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    expect(result.source).toBe("network");
    expect(claimsOf(result.accessToken)).toMatchObject({ azp: ids.daemonClientId, azpacr: "1", roles: ["Orders.Read.All"] });
    expect(credential.description).toMatch(/Key Vault https:\/\/127\.0\.0\.1:\d+, secret "daemon-secret" \(version [0-9a-f]{32}\)/);
    expect(inspect(credential) + JSON.stringify(credential)).not.toContain(ids.daemonClientSecret);
    await client.dispose();
  });

  it("picks up a rotated secret when the server rejects the old one (core calls reload())", async () => {
    const oldValue = "rotating-secret-old-value";
    const newValue = "rotating-secret-new-value";
    fixture.emulator.addSecret(ids.daemonClientId, { value: oldValue });
    fixture.emulator.setVaultSecret("rotating-secret", oldValue);
    const credential = keyVaultSecretCredential({ secretClient: fixture.secretClient(), secretName: "rotating-secret" });
    const client = fixture.daemonClient(credential);
    await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    const readsBefore = vaultReads(fixture.emulator, "rotating-secret");

    // Rotate: new secret on the app registration and in the vault; retire the old one.
    fixture.emulator.addSecret(ids.daemonClientId, { value: newValue });
    fixture.emulator.setVaultSecret("rotating-secret", newValue);
    fixture.emulator.removeSecret(ids.daemonClientId, oldValue);
    fixture.emulator.resetRequests();

    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(result.source).toBe("network");
    const statuses = fixture.emulator.requests.filter((request) => request.method === "POST").map((request) => [request.status, request.errorCodes?.[0]]);
    expect(statuses).toEqual([[401, 7000215], [200, undefined]]);
    expect(vaultReads(fixture.emulator, "rotating-secret")).toBeGreaterThan(0);
    expect(readsBefore).toBeGreaterThan(0);

    // An explicit reload() reads the vault again too.
    fixture.emulator.resetRequests();
    await credential.reload?.({ error: "invalid_client", errorCodes: [7000215] });
    await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(vaultReads(fixture.emulator, "rotating-secret")).toBe(1);
    await client.dispose();
  });

  it("polls for a newer version every pollIntervalMs, on use, and skips a disabled newest version", async () => {
    const clock = manualClock();
    const first = fixture.emulator.setVaultSecret("polled-secret", "polled-one");
    const credential = keyVaultSecretCredential({ secretClient: fixture.secretClient(), secretName: "polled-secret", pollIntervalMs: 60_000, clock });
    const context = { tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" as const };
    const secretOf = async (): Promise<string> => ((await credential.getAuthentication(context)) as { clientSecret: string }).clientSecret;

    expect(await secretOf()).toBe("polled-one");
    const second = fixture.emulator.setVaultSecret("polled-secret", "polled-two");
    clock.advance(59_000);
    expect(await secretOf()).toBe("polled-one");
    clock.advance(1_000);
    expect(await secretOf()).toBe("polled-two");

    fixture.emulator.disableVaultSecretVersion("polled-secret", second);
    clock.advance(60_000);
    expect(await secretOf()).toBe("polled-one");
    expect(first).not.toBe(second);
    await credential.dispose?.();
  });

  it("uses a pinned version as is", async () => {
    const clock = manualClock();
    const pinned = fixture.emulator.setVaultSecret("pinned-secret", "pinned-one");
    const credential = keyVaultSecretCredential({ secretClient: fixture.secretClient(), secretName: "pinned-secret", version: pinned, pollIntervalMs: 1_000, clock });
    const context = { tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" as const };
    expect(await credential.getAuthentication(context)).toMatchObject({ clientSecret: "pinned-one" });
    fixture.emulator.setVaultSecret("pinned-secret", "pinned-two");
    clock.advance(10_000);
    expect(await credential.getAuthentication(context)).toMatchObject({ clientSecret: "pinned-one" });
    expect(vaultReads(fixture.emulator, "pinned-secret")).toBe(1);
  });

  it("keeps the secret it has when the vault fails during a poll", async () => {
    const clock = manualClock();
    fixture.emulator.setVaultSecret("outage-secret", "outage-one");
    const credential = keyVaultSecretCredential({ secretClient: fixture.secretClient(), secretName: "outage-secret", pollIntervalMs: 1_000, clock });
    const context = { tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" as const };
    await credential.getAuthentication(context);
    const versions = fixture.secretClient().listPropertiesOfSecretVersions("outage-secret");
    for await (const properties of versions) fixture.emulator.disableVaultSecretVersion("outage-secret", properties.version!);
    clock.advance(1_000);
    expect(await credential.getAuthentication(context)).toMatchObject({ clientSecret: "outage-one" });
    // After reload() the failure is reported: the kept secret was dropped on purpose.
    await credential.reload?.({ error: "invalid_client", errorCodes: [7000215] });
    const error = await credential.getAuthentication(context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toContain("no enabled version");
  });

  it("fails with a CredentialError naming the vault and the secret, never the value", async () => {
    const credential = keyVaultSecretCredential({ secretClient: fixture.secretClient(), secretName: "no-such-secret" });
    const error = await credential
      .getAuthentication({ tokenEndpoint: fixture.emulator.tokenEndpoint(ids.tenantId), clientId: ids.daemonClientId, authorityKind: "entra" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toContain(`secret "no-such-secret" in Key Vault ${fixture.emulator.vaultUrl}`);
    expect((error as Error).message).toContain("HTTP 404 SecretNotFound");
    expect((error as CredentialError).cause).toBeDefined();
  });

  it("rejects inconsistent options", () => {
    expect(() => keyVaultSecretCredential({ secretName: "x" })).toThrow(/^keyVaultSecretCredential: 'vaultUrl' must be/);
    expect(() => keyVaultSecretCredential({ vaultUrl: "https://v.vault.azure.net", secretName: "x" })).toThrow(/^keyVaultSecretCredential: with 'vaultUrl', pass 'credential'/);
    expect(() => keyVaultSecretCredential({ secretClient: fixture.secretClient(), secretName: "bad name" })).toThrow(/^keyVaultSecretCredential: 'secretName'/);
    expect(() => keyVaultSecretCredential({ secretClient: fixture.secretClient(), secretName: "x", pollIntervalMs: 0 })).toThrow(/^keyVaultSecretCredential: 'pollIntervalMs'/);
  });
});

describe("keyVaultCertificateCredential", () => {
  it("acquires a token with a PFX kept as a base64 secret (application/x-pkcs12), and follows its rotation", async () => {
    const current = await createSelfSignedCertificate({ subject: "keyvault daemon current" });
    const next = await createSelfSignedCertificate({ subject: "keyvault daemon next" });
    fixture.emulator.addCertificate(ids.daemonClientId, { pem: current.certificatePem });
    fixture.emulator.setVaultSecret("daemon-cert", pfxBase64(current.certificatePem, current.privateKeyPem), { contentType: "application/x-pkcs12" });
    const credential = keyVaultCertificateCredential({ secretClient: fixture.secretClient(), secretName: "daemon-cert" });
    const client = fixture.daemonClient(credential);
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    expect(claimsOf(result.accessToken)).toMatchObject({ azp: ids.daemonClientId, azpacr: "2" });
    expect(credential.description).toContain('secret "daemon-cert"');
    expect(inspect(credential)).not.toContain("PRIVATE KEY");

    // Rotation: the new certificate (PEM this time) replaces the old one everywhere.
    fixture.emulator.addCertificate(ids.daemonClientId, { pem: next.certificatePem });
    fixture.emulator.setVaultSecret("daemon-cert", next.certificatePem + next.privateKeyPem, { contentType: "application/x-pem-file" });
    fixture.emulator.removeCertificate(ids.daemonClientId, current.certificatePem);
    const rotated = await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    expect(claimsOf(rotated.accessToken)).toMatchObject({ azpacr: "2" });
    await client.dispose();
  });

  it("opens a PFX imported with a password", async () => {
    const certificate = await createSelfSignedCertificate({ subject: "keyvault daemon password" });
    fixture.emulator.addCertificate(ids.daemonClientId, { pem: certificate.certificatePem });
    fixture.emulator.setVaultSecret("password-cert", pfxBase64(certificate.certificatePem, certificate.privateKeyPem, "pfx-password"), { contentType: "application/x-pkcs12" });
    const client = fixture.daemonClient(keyVaultCertificateCredential({ secretClient: fixture.secretClient(), secretName: "password-cert", password: "pfx-password" }));
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    expect(claimsOf(result.accessToken)).toMatchObject({ azpacr: "2" });
    await client.dispose();
  });
});

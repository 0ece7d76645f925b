import { setTimeout as sleep } from "node:timers/promises";
import type { SecretClient } from "@azure/keyvault-secrets";
import { describeClientCredential, type CredentialUnderTest } from "@daemon-auth/conformance";
import { createSelfSignedCertificate, type GeneratedCertificate } from "@daemon-auth/emulator";
import { afterAll, beforeAll } from "vitest";
import { keyVaultCertificateCredential, keyVaultSecretCredential, type KeyVaultSecretReader } from "../src/index.js";
import { pfxBase64, startVaultFixture, vaultReads, type VaultFixture } from "./helpers.js";

const SECRET_VALUE = "conformance-client-secret-value";
let fixture: VaultFixture;
let certificate: GeneratedCertificate;
let client: SecretClient;

beforeAll(async () => {
  certificate = await createSelfSignedCertificate({ subject: "keyvault conformance" });
  fixture = await startVaultFixture({
    "client-secret": { value: SECRET_VALUE },
    "client-cert": { value: pfxBase64(certificate.certificatePem, certificate.privateKeyPem), contentType: "application/x-pkcs12" },
  });
  client = fixture.secretClient();
});
afterAll(async () => {
  await fixture?.close();
});

function slow(reader: KeyVaultSecretReader, delayMs: number): KeyVaultSecretReader {
  return {
    getSecret: async (...args: Parameters<KeyVaultSecretReader["getSecret"]>) => {
      await sleep(delayMs);
      return reader.getSecret(...args);
    },
    listPropertiesOfSecretVersions: (...args: Parameters<KeyVaultSecretReader["listPropertiesOfSecretVersions"]>) =>
      reader.listPropertiesOfSecretVersions(...args),
  };
}

function counted(name: string, credential: CredentialUnderTest["credential"], secretMaterial: string[]): CredentialUnderTest {
  const before = vaultReads(fixture.emulator, name);
  return { credential, secretMaterial, loadCount: () => vaultReads(fixture.emulator, name) - before };
}

describeClientCredential(
  "client secret from Key Vault (vaultUrl + TokenCredential)",
  () =>
    counted(
      "client-secret",
      keyVaultSecretCredential({
        vaultUrl: fixture.emulator.vaultUrl,
        credential: fixture.vaultCredential,
        secretClientOptions: fixture.clientOptions,
        secretName: "client-secret",
      }),
      [SECRET_VALUE],
    ),
  {
    expectedKind: "secret",
    createSlow: () => ({ credential: keyVaultSecretCredential({ secretClient: slow(client, 300), secretName: "client-secret" }), secretMaterial: [SECRET_VALUE] }),
    createFailing: () => ({ credential: keyVaultSecretCredential({ secretClient: client, secretName: "missing-secret" }), secretMaterial: [SECRET_VALUE] }),
  },
);

describeClientCredential(
  "certificate from Key Vault (PFX secret)",
  () => counted("client-cert", keyVaultCertificateCredential({ secretClient: client, secretName: "client-cert" }), [certificate.privateKeyPem]),
  {
    expectedKind: "certificate",
    createSlow: () => ({ credential: keyVaultCertificateCredential({ secretClient: slow(client, 300), secretName: "client-cert" }), secretMaterial: [certificate.privateKeyPem] }),
    createFailing: () => ({ credential: keyVaultCertificateCredential({ secretClient: client, secretName: "client-secret" }), secretMaterial: [SECRET_VALUE] }),
  },
);

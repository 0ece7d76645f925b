// One HTTPS emulator serving both the token endpoint and the Key Vault, with the
// real @azure/identity + @azure/keyvault-secrets clients made to trust its CA
// through a pipeline policy (NODE_EXTRA_CA_CERTS is read only at process start).
import { Agent } from "node:https";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientSecretCredential } from "@azure/identity";
import { SecretClient, type SecretClientOptions } from "@azure/keyvault-secrets";
import { agentPipelinePolicy } from "@daemon-auth/test-utils";
import { createDaemonClient, type ClientCredential } from "@daemon-auth/core";
import { createUndiciTransport } from "@daemon-auth/http-undici";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, KEY_VAULT_RESOURCE, startEmulator, type Emulator, type KeyVaultOptions } from "@daemon-auth/emulator";
import forge from "node-forge";

export { ids };
export const VAULT_APP = "aaaaaaaa-0000-4000-8000-0000000000aa";
export const READER_APP = "aaaaaaaa-0000-4000-8000-0000000000bb";
export const READER_SECRET = "vault-reader-secret-value";

export interface VaultFixture {
  readonly emulator: Emulator;
  /** Options that make a `SecretClient` trust the emulator's CA and accept its challenge. */
  readonly clientOptions: SecretClientOptions;
  /** A token credential for the vault (the reader app). */
  readonly vaultCredential: ClientSecretCredential;
  secretClient(): SecretClient;
  /** A core client for the demo daemon, over HTTPS trusting the emulator's CA. */
  daemonClient(credential: ClientCredential): ReturnType<typeof createDaemonClient>;
  /** A core client for another app of the emulator (e.g. the vault reader), same transport. */
  appClient(clientId: string, credential: ClientCredential): ReturnType<typeof createDaemonClient>;
  close(): Promise<void>;
}

export async function startVaultFixture(
  secrets: Record<string, { value: string; contentType?: string }> = {},
  keyPermissions?: KeyVaultOptions["keyPermissions"],
): Promise<VaultFixture> {
  const dir = await mkdtemp(join(tmpdir(), "daemon-auth-keyvault-"));
  const config = demoEmulatorConfig();
  config.applications.push(
    { clientId: VAULT_APP, displayName: "Azure Key Vault", homeTenant: ids.tenantId, multiTenant: true, identifierUris: [KEY_VAULT_RESOURCE] },
    { clientId: READER_APP, displayName: "vault reader", homeTenant: ids.tenantId, secrets: [{ value: READER_SECRET }] },
  );
  const emulator = await startEmulator({ https: true, certificateDir: join(dir, "tls"), config, keyVault: { secrets, ...(keyPermissions === undefined ? {} : { keyPermissions }) } });
  const agent = new Agent({ ca: emulator.caCertificatePem, keepAlive: false });
  const trustEmulator = agentPipelinePolicy(agent) as unknown as NonNullable<SecretClientOptions["additionalPolicies"]>[number];
  const clientOptions: SecretClientOptions = { disableChallengeResourceVerification: true, additionalPolicies: [trustEmulator] };
  const vaultCredential = new ClientSecretCredential(ids.tenantId, READER_APP, READER_SECRET, {
    authorityHost: emulator.url,
    disableInstanceDiscovery: true,
    additionalPolicies: [trustEmulator],
  });
  // The project's own undici transport, trusting the emulator's CA (NODE_EXTRA_CA_CERTS is read only at start-up).
  const transport = createUndiciTransport({ ca: emulator.caCertificatePem as string });
  return {
    emulator,
    clientOptions,
    vaultCredential,
    secretClient: () => new SecretClient(emulator.vaultUrl, vaultCredential, clientOptions),
    daemonClient: (credential) => createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId: ids.daemonClientId, credential, transport }),
    appClient: (clientId, credential) => createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId, credential, transport }),
    async close() {
      await transport.dispose();
      agent.destroy();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A PFX without a password (as Key Vault keeps a certificate it created), base64. */
export function pfxBase64(certificatePem: string, privateKeyPem: string, password: string | null = null): string {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const certificate = forge.pki.certificateFromPem(certificatePem);
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [certificate], password, { algorithm: "aes256" });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary").toString("base64");
}

/** Successful reads of `name` from the vault so far. */
export function vaultReads(emulator: Emulator, name: string): number {
  return emulator.requests.filter((request) => request.method === "GET" && request.path.startsWith(`/secrets/${name}`) && request.status === 200).length;
}

export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** A clock tests move by hand. */
export function manualClock(start = Date.now()): { now(): number; advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

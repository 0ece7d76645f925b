// The real @azure/keyvault-secrets SecretClient, authenticated by a daemon-auth client
// through toTokenCredential, against the emulator's Key Vault over HTTPS: the
// client's first call is unauthenticated and answered with a 401 challenge.
import { mkdtemp, rm } from "node:fs/promises";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretClient, type SecretClientOptions } from "@azure/keyvault-secrets";
import { agentPipelinePolicy } from "@daemon-auth/test-utils";
import { createDaemonClient, type DaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { createUndiciTransport, type UndiciTransport } from "@daemon-auth/http-undici";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, KEY_VAULT_RESOURCE, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toTokenCredential } from "../src/index.js";

const VAULT_APP = "aaaaaaaa-0000-4000-8000-0000000000aa";
let dir: string;
let emulator: Emulator;
let agent: Agent;
let client: DaemonClient;
let transport: UndiciTransport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "daemon-auth-azure-"));
  const config = demoEmulatorConfig();
  config.applications.push({ clientId: VAULT_APP, displayName: "Azure Key Vault", homeTenant: ids.tenantId, multiTenant: true, identifierUris: [KEY_VAULT_RESOURCE] });
  emulator = await startEmulator({ https: true, certificateDir: join(dir, "tls"), config, keyVault: { secrets: { "db-password": { value: "s3cret-from-vault" } } } });
  agent = new Agent({ ca: emulator.caCertificatePem, keepAlive: false });
  transport = createUndiciTransport({ ca: emulator.caCertificatePem as string });
  client = createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId: ids.daemonClientId, credential: clientSecret(ids.daemonClientSecret), transport });
});
afterAll(async () => {
  await client?.dispose();
  await transport?.dispose();
  agent?.destroy();
  await emulator?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function secretClient(): SecretClient {
  const trustEmulator = agentPipelinePolicy(agent) as unknown as NonNullable<SecretClientOptions["additionalPolicies"]>[number];
  return new SecretClient(emulator.vaultUrl, toTokenCredential(client), { disableChallengeResourceVerification: true, additionalPolicies: [trustEmulator] });
}

describe("SecretClient with toTokenCredential", () => {
  it("reads a secret through the 401 challenge, then reuses the cached token", async () => {
    emulator.resetRequests();
    const secrets = secretClient();
    const first = await secrets.getSecret("db-password");
    expect(first.value).toBe("s3cret-from-vault");
    const vaultStatuses = emulator.requests.filter((request) => request.path.startsWith("/secrets/")).map((request) => request.status);
    expect(vaultStatuses).toEqual([401, 200]);
    expect(emulator.tokenRequestCount({ scope: `${KEY_VAULT_RESOURCE}/.default` })).toBe(1);

    const second = await secrets.getSecret("db-password");
    expect(second.value).toBe("s3cret-from-vault");
    expect(emulator.tokenRequestCount()).toBe(1);
  });

  it("shares the daemon client's token cache across SecretClient instances", async () => {
    emulator.resetRequests();
    const secret = await secretClient().getSecret("db-password");
    expect(secret.value).toBe("s3cret-from-vault");
    expect(emulator.tokenRequestCount()).toBe(0);
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertNoSecretIn, expectValidEmulatorToken, renderings } from "@daemon-auth/conformance";
import { ConfigurationError, CredentialError, createDaemonClient } from "@daemon-auth/core";
import {
  createSelfSignedCertificate,
  demoEmulatorConfig,
  demoEmulatorIdentities as ids,
  startEmulator,
  type Emulator,
} from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurationFromEnvironment } from "../src/index.js";

let emulator: Emulator;
let directory: string;

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  directory = await mkdtemp(join(tmpdir(), "daemon-auth-environment-"));
});
afterAll(async () => {
  await emulator?.close();
  await rm(directory, { recursive: true, force: true });
});

const base = (): Record<string, string> => ({
  AZURE_TENANT_ID: ids.tenantId,
  AZURE_CLIENT_ID: ids.daemonClientId,
  AZURE_AUTHORITY_HOST: emulator.url,
});

async function acquireWith(env: Record<string, string>): Promise<string> {
  const config = configurationFromEnvironment(env);
  const client = createDaemonClient(config.clientOptions);
  try {
    const result = await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    return result.accessToken;
  } finally {
    await client.dispose();
  }
}

describe("configurationFromEnvironment", () => {
  it("a client secret: gets a token from the host AZURE_AUTHORITY_HOST names", async () => {
    const env = { ...base(), AZURE_CLIENT_SECRET: ids.daemonClientSecret, REDIS_URL: "redis://127.0.0.1:6390" };
    const config = configurationFromEnvironment(env);
    expect(config.credentialKind).toBe("secret");
    expect(config.redisUrl).toBe("redis://127.0.0.1:6390");
    expect(config.pickedBy).toBe("EnvironmentCredential");
    expect(config.describe()).toBe(
      `EnvironmentCredential: tenant ${ids.tenantId}, client ${ids.daemonClientId}, client secret from AZURE_CLIENT_SECRET, authority host ${emulator.url}`,
    );
    assertNoSecretIn({ ...renderings(config), describe: config.describe() }, [ids.daemonClientSecret]);
    await expectValidEmulatorToken(await acquireWith(env), { jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId });
  });

  it("a certificate file with a password and the chain: signs an assertion the emulator accepts", async () => {
    const certificate = await createSelfSignedCertificate();
    emulator.addCertificate(ids.daemonClientId, { pem: certificate.certificatePem });
    const path = join(directory, "daemon.pem");
    await writeFile(path, `${certificate.privateKeyPem}${certificate.certificatePem}`, { mode: 0o600 });
    const env = { ...base(), AZURE_CLIENT_CERTIFICATE_PATH: path, AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: "true" };
    const config = configurationFromEnvironment(env);
    expect(config.credentialKind).toBe("certificate");
    expect(config.describe()).toContain(`certificate file ${path}`);
    emulator.resetRequests();
    await expectValidEmulatorToken(await acquireWith(env), { jwksUri: emulator.jwksUri(ids.tenantId), clientId: ids.daemonClientId });
    expect(emulator.requests.filter((request) => request.clientAuth !== undefined).map((request) => request.clientAuth)).toEqual([
      "assertion",
    ]);
  });

  it("the secret wins over a certificate, as in EnvironmentCredential", () => {
    const env = { ...base(), AZURE_CLIENT_SECRET: "s", AZURE_CLIENT_CERTIFICATE_PATH: "/nowhere.pem", AZURE_FEDERATED_TOKEN_FILE: "/t" };
    expect(configurationFromEnvironment(env).credentialKind).toBe("secret");
    const { AZURE_CLIENT_SECRET: _secret, ...withoutSecret } = env;
    expect(configurationFromEnvironment(withoutSecret).credentialKind).toBe("certificate");
  });

  it("a federated token file: a missing file fails the first request with a CredentialError naming it", async () => {
    const path = join(directory, "missing-token");
    const env = { ...base(), AZURE_FEDERATED_TOKEN_FILE: path };
    expect(configurationFromEnvironment(env).credentialKind).toBe("federated-token-file");
    expect(configurationFromEnvironment(env).pickedBy).toBe("WorkloadIdentityCredential");
    expect(configurationFromEnvironment(env).describe()).toMatch(/^WorkloadIdentityCredential: .*federated token file /);
    await expect(acquireWith(env)).rejects.toSatisfy(
      (error: unknown) => error instanceof CredentialError && error.message.includes(path),
    );
  });

  it("a user name and password, which EnvironmentCredential would pick before a token file, are refused without echoing the password", () => {
    const env = { ...base(), AZURE_USERNAME: "alice@contoso.example", AZURE_PASSWORD: "hunter2-password", AZURE_FEDERATED_TOKEN_FILE: "/t" };
    const attempt = (): unknown => configurationFromEnvironment(env);
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/AZURE_USERNAME and AZURE_PASSWORD are set: .* Unset them and set AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE/);
    expect(attempt).not.toThrow(/hunter2|alice/);
    // A secret or a certificate comes first in EnvironmentCredential's order, and wins.
    expect(configurationFromEnvironment({ ...env, AZURE_CLIENT_SECRET: "s" }).credentialKind).toBe("secret");
    expect(configurationFromEnvironment({ ...env, AZURE_CLIENT_CERTIFICATE_PATH: "/c.pem" }).credentialKind).toBe("certificate");
    // Without the password, the token file is WorkloadIdentityCredential's, as in DefaultAzureCredential.
    const { AZURE_PASSWORD: _password, ...withoutPassword } = env;
    expect(configurationFromEnvironment(withoutPassword).pickedBy).toBe("WorkloadIdentityCredential");
  });

  it("passes AZURE_REGIONAL_AUTHORITY_NAME as azureRegion, AutoDiscoverRegion as \"auto\"", () => {
    const env = { ...base(), AZURE_CLIENT_SECRET: "s", AZURE_REGIONAL_AUTHORITY_NAME: "westus2" };
    expect(configurationFromEnvironment(env).clientOptions.azureRegion).toBe("westus2");
    expect(configurationFromEnvironment(env).describe()).toMatch(/, region westus2$/);
    expect(configurationFromEnvironment({ ...env, AZURE_REGIONAL_AUTHORITY_NAME: "AutoDiscoverRegion" }).clientOptions.azureRegion).toBe("auto");
    expect(configurationFromEnvironment({ ...env, AZURE_REGIONAL_AUTHORITY_NAME: " " }).clientOptions).not.toHaveProperty("azureRegion");
  });

  it("names every missing variable at once", () => {
    const attempt = (): unknown => configurationFromEnvironment({ AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: "yes" });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(
      'Set AZURE_TENANT_ID (the directory (tenant) id of the app registration); AZURE_CLIENT_ID (the application (client) id); one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE (how the app proves its identity); AZURE_CLIENT_SEND_CERTIFICATE_CHAIN as "true" or "false" (it is "yes").',
    );
  });

  it("blank values count as unset", () => {
    expect(() => configurationFromEnvironment({ ...base(), AZURE_CLIENT_SECRET: "  " })).toThrow(/one of AZURE_CLIENT_SECRET/);
  });
});

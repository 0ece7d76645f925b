/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON bodies are inspected loosely in tests */
// The emulated Key Vault: its wire shapes over fetch, then the real
// @azure/keyvault-secrets SecretClient over HTTPS in a child process.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_VAULT_RESOURCE, startEmulator, type Emulator, type EmulatorConfig } from "../src/index.js";
import { CONTOSO, DAEMON, FABRIKAM, ISV, ISV_SECRET, SECRET, postToken, runPeer, secretForm, testConfig } from "./helpers.js";

const VAULT_APP = "aaaaaaaa-0000-4000-8000-0000000000aa";
const API = "api-version=7.5";

function vaultConfig(): EmulatorConfig {
  const config = testConfig();
  config.applications.push({ clientId: VAULT_APP, displayName: "Azure Key Vault", homeTenant: CONTOSO, multiTenant: true, identifierUris: [KEY_VAULT_RESOURCE] });
  return config;
}

async function vaultToken(emulator: Emulator, tenant = CONTOSO, form = secretForm({ scope: `${KEY_VAULT_RESOURCE}/.default` })): Promise<string> {
  const call = await postToken(emulator, tenant, form);
  expect(call.status).toBe(200);
  return call.body.access_token as string;
}

async function call(emulator: Emulator, path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${emulator.vaultUrl}${path}`, {
    method: init.method ?? "GET",
    headers: {
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe("Key Vault secrets over HTTP", () => {
  let emulator: Emulator;
  let token: string;

  beforeAll(async () => {
    emulator = await startEmulator({ config: vaultConfig(), keyVault: { secrets: { "app-secret": { value: "s3cret-one" } } } });
    token = await vaultToken(emulator);
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it("challenges a request without a token as Key Vault does", async () => {
    const answer = await call(emulator, `/secrets/app-secret?${API}`);
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toBe(`Bearer authorization="${emulator.url}/${CONTOSO}", resource="https://vault.azure.net"`);
    expect(answer.body.error.code).toBe("Unauthorized");
  });

  it("requires api-version", async () => {
    const answer = await call(emulator, "/secrets/app-secret", { token });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: "BadParameter" });
  });

  it("rejects a token for another audience, of another tenant, or not signed by the emulator", async () => {
    const orders = await vaultToken(emulator, CONTOSO, secretForm());
    expect((await call(emulator, `/secrets/app-secret?${API}`, { token: orders })).status).toBe(401);
    emulator.grant({ tenant: FABRIKAM, clientId: ISV, resource: KEY_VAULT_RESOURCE, roles: [] });
    const foreign = await vaultToken(emulator, FABRIKAM, { grant_type: "client_credentials", client_id: ISV, client_secret: ISV_SECRET, scope: `${KEY_VAULT_RESOURCE}/.default` });
    const wrongTenant = await call(emulator, `/secrets/app-secret?${API}`, { token: foreign });
    expect(wrongTenant.status).toBe(401);
    expect(wrongTenant.body.error.message).toContain("AKV10032");
    const [header, payload] = token.split(".");
    const forged = await call(emulator, `/secrets/app-secret?${API}`, { token: `${header}.${payload}.${Buffer.from("x".repeat(256)).toString("base64url")}` });
    expect(forged.status).toBe(401);
    expect(JSON.stringify(forged.body)).not.toContain(token);
  });

  it("serves the latest version, a pinned version, versions, and new versions", async () => {
    const first = await call(emulator, `/secrets/app-secret?${API}`, { token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ value: "s3cret-one", attributes: { enabled: true, recoveryLevel: "Recoverable+Purgeable" } });
    const firstVersion = (first.body.id as string).split("/").pop()!;
    expect(first.body.id).toBe(`${emulator.vaultUrl}/secrets/app-secret/${firstVersion}`);
    expect(first.body.attributes.created).toBeTypeOf("number");

    const second = emulator.setVaultSecret("app-secret", "s3cret-two", { contentType: "text/plain" });
    expect((await call(emulator, `/secrets/app-secret?${API}`, { token })).body).toMatchObject({ value: "s3cret-two", contentType: "text/plain" });
    expect((await call(emulator, `/secrets/app-secret/${firstVersion}?${API}`, { token })).body.value).toBe("s3cret-one");

    const put = await call(emulator, `/secrets/app-secret?${API}`, { method: "PUT", token, body: { value: "s3cret-three" } });
    expect(put.status).toBe(200);
    expect(put.body.value).toBe("s3cret-three");

    const versions = await call(emulator, `/secrets/app-secret/versions?${API}`, { token });
    expect(versions.body.value).toHaveLength(3);
    expect(versions.body.value[1]).toMatchObject({ id: `${emulator.vaultUrl}/secrets/app-secret/${second}`, contentType: "text/plain" });
    expect(JSON.stringify(versions.body)).not.toContain("s3cret");

    emulator.disableVaultSecretVersion("app-secret", second);
    const disabled = await call(emulator, `/secrets/app-secret/${second}?${API}`, { token });
    expect(disabled.status).toBe(403);
    expect(disabled.body.error.innererror.code).toBe("SecretDisabled");
  });

  it("answers 404 SecretNotFound", async () => {
    const missing = await call(emulator, `/secrets/nope?${API}`, { token });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("SecretNotFound");
    expect((await call(emulator, `/secrets/app-secret/0123456789abcdef0123456789abcdef?${API}`, { token })).body.error.code).toBe("SecretNotFound");
  });

  it("refuses invalid names and unknown versions in the API", () => {
    expect(() => emulator.setVaultSecret("bad name", "x")).toThrow(/secret name/);
    expect(() => emulator.disableVaultSecretVersion("app-secret", "nope")).toThrow(/no version/);
  });
});

const PEER = fileURLToPath(new URL("./fixtures/key-vault-peer.mjs", import.meta.url));

function runSecretClient(caPath: string, input: Record<string, unknown>): Promise<Record<string, any>> {
  return runPeer(caPath, input, PEER);
}

describe("@azure/keyvault-secrets SecretClient over HTTPS", () => {
  let emulator: Emulator;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "emulator-vault-"));
    emulator = await startEmulator({
      https: true,
      certificateDir: join(dir, "tls"),
      config: vaultConfig(),
      keyVault: { secrets: { "app-secret": { value: "s3cret-one" } } },
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("gets, pins, sets and lists versions with a ClientSecretCredential token", async () => {
    const second = emulator.setVaultSecret("app-secret", "s3cret-two", { contentType: "text/plain" });
    const result = await runSecretClient(emulator.caCertificatePath!, {
      url: emulator.url,
      vaultUrl: emulator.vaultUrl,
      tenant: CONTOSO,
      clientId: DAEMON,
      secret: SECRET,
      ops: [
        { op: "get", name: "app-secret" },
        { op: "versions", name: "app-secret" },
        { op: "set", name: "app-secret", value: "s3cret-three", contentType: "text/plain" },
        { op: "get", name: "app-secret" },
        { op: "get", name: "missing-secret" },
      ],
    });
    expect(result.ok).toBe(true);
    const [latest, versions, set, afterSet, missing] = result.results;
    expect(latest).toMatchObject({ name: "app-secret", value: "s3cret-two", version: second, enabled: true, contentType: "text/plain", vaultUrl: emulator.vaultUrl });
    expect(versions).toHaveLength(2);
    expect(versions[1]).toMatchObject({ version: second, enabled: true });
    expect(set).toMatchObject({ value: "s3cret-three" });
    expect(afterSet).toMatchObject({ value: "s3cret-three", version: set.version });
    expect(missing).toMatchObject({ error: true, statusCode: 404, code: "SecretNotFound" });

    const pinned = await runSecretClient(emulator.caCertificatePath!, {
      url: emulator.url,
      vaultUrl: emulator.vaultUrl,
      tenant: CONTOSO,
      clientId: DAEMON,
      secret: SECRET,
      ops: [{ op: "get", name: "app-secret", version: versions[0].version }],
    });
    expect(pinned.results[0]).toMatchObject({ value: "s3cret-one", version: versions[0].version });
    expect(emulator.tokenRequestCount({ clientId: DAEMON, scope: `${KEY_VAULT_RESOURCE}/.default` })).toBeGreaterThanOrEqual(1);
  });
});

import { fileURLToPath } from "node:url";
import { startEmulator } from "@daemon-auth/emulator";
import { startOrdersApi } from "@daemon-auth/sample-call-own-api";
import { spawnNode, startNode } from "@daemon-auth/test-utils";
import { describe, expect, it } from "vitest";
import { daemonEnvironment, secretlessDemoIdentities as demo, secretlessEmulatorConfig, trustUserAssignedIdentity } from "../src/demo-directory.js";
import { main, type Output } from "../src/daemon.js";
import { KEY_VAULT_RUNS, ROTATE_AFTER_RUN, runSecretlessStory } from "../src/story.js";

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

function recordingOutput(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (line) => out.push(line), error: (line) => err.push(line) };
}

/** No token, assertion or header value: only what the daemon means to say. */
function expectNothingSecret(output: string): void {
  expect(output).not.toMatch(JWT);
  expect(output).not.toMatch(/bearer\s+\S{20,}/i);
  expect(output).not.toContain("PRIVATE KEY");
}

describe("secretless-daemon", () => {
  it("exits 2 naming every missing or malformed variable, before any request", async () => {
    const output = recordingOutput();
    expect(await main({}, output)).toBe(2);
    const message = output.err.join("\n");
    for (const name of ["AZURE_TENANT_ID", "APP_CLIENT_ID", "API_SCOPE", "API_URL"]) expect(message).toContain(name);
    expect(output.out).toEqual([]);

    const env = { AZURE_TENANT_ID: demo.customerTenantId, APP_CLIENT_ID: demo.appClientId, API_SCOPE: demo.apiScope, API_URL: "https://orders.example.com" };
    const halfVault = recordingOutput();
    expect(await main({ ...env, KEY_VAULT_URL: "https://my-vault.vault.azure.net" }, halfVault)).toBe(2);
    expect(halfVault.err.join("\n")).toContain("both KEY_VAULT_URL and KEY_VAULT_CERTIFICATE_NAME");

    const malformed = recordingOutput();
    expect(await main({ ...env, MANAGED_IDENTITY_CLIENT_ID: "orders-vm", KEY_VAULT_URL: "http://my-vault.vault.azure.net", KEY_VAULT_CERTIFICATE_NAME: "c", API_SCOPE: "api://orders/Orders.Read" }, malformed)).toBe(2);
    const problems = malformed.err.join("\n");
    expect(problems).toContain("MANAGED_IDENTITY_CLIENT_ID as the user-assigned identity's client id, a GUID");
    expect(problems).toContain("KEY_VAULT_URL as the vault's https URL");
    expect(problems).toContain("API_SCOPE as the API's <resource>/.default");
  });

  it.concurrent("(a) federated with the managed identity in the customer's tenant, (b) Key Vault signs through a rotation", async () => {
    const result = await runSecretlessStory({
      script: fileURLToPath(new URL("../src/start.ts", import.meta.url)),
      onLine: () => undefined,
      timeoutMs: 90_000,
    });

    // (a) The app's only credential is the user-assigned identity's token; the token is the customer tenant's, and the API accepts it.
    const { federated } = result;
    expect({ exitCode: federated.exitCode, lines: federated.lines }).toMatchObject({ exitCode: 0 });
    expect(federated.lines.filter((line) => line.startsWith("run "))).toEqual([expect.stringMatching(/^run 1: 200 OK, 3 orders \(token from network\)$/), expect.stringMatching(/^run 2: 200 OK, 3 orders/)]);
    expect(federated.appTokenRequests.length).toBeGreaterThanOrEqual(1);
    for (const request of federated.appTokenRequests) expect(request).toMatchObject({ status: 200, clientAuth: "assertion", tenant: demo.customerTenantId });
    expect(federated.imdsRequests).toBeGreaterThanOrEqual(1);
    expect(federated.vaultSignatures).toBe(0);
    expect(federated.lines.join("\n")).toContain(`managed identity (user-assigned ${demo.userIdentityClientId}) answers through imds`);

    // (b) Every call succeeded; after the rotation the old certificate was refused once, the credential reloaded the new version from the vault.
    const { keyVault } = result;
    expect({ exitCode: keyVault.exitCode, lines: keyVault.lines }).toMatchObject({ exitCode: 0 });
    expect(keyVault.lines.filter((line) => line.startsWith("run "))).toEqual(
      Array.from({ length: KEY_VAULT_RUNS }, (_, index) => `run ${index + 1}: 200 OK, 3 orders (token from network)`),
    );
    const [before, after] = keyVault.versions;
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const rejected = keyVault.appTokenRequests.findIndex(({ status }) => status !== 200);
    expect(rejected).toBeGreaterThanOrEqual(ROTATE_AFTER_RUN);
    expect(keyVault.appTokenRequests[rejected]).toMatchObject({ status: 401, errorCode: 700027 });
    expect(keyVault.appTokenRequests.filter((_, index) => index !== rejected)).toEqual(
      Array.from({ length: KEY_VAULT_RUNS }, () => expect.objectContaining({ status: 200, clientAuth: "assertion", tenant: demo.customerTenantId })),
    );
    const signing = keyVault.lines.filter((line) => line.includes("signing with"));
    expect(signing).toEqual([expect.stringContaining(`(version ${before})`), expect.stringContaining(`(version ${after})`)]);
    expect(keyVault.lines).toContain("   daemon-auth: a rotated credential was accepted");
    // Key Vault signed (one assertion per certificate version at least), reached with the system-assigned identity's tokens.
    expect(keyVault.vaultSignatures).toBeGreaterThanOrEqual(2);
    expect(keyVault.imdsRequests).toBeGreaterThanOrEqual(1);

    expectNothingSecret([...federated.lines, ...keyVault.lines].join("\n"));
  }, 120_000);

  it.concurrent("pnpm demo tells the story and exits 0", async () => {
    const { code, stdout, stderr } = await spawnNode(fileURLToPath(new URL("../dist/demo.js", import.meta.url)), [], { timeoutMs: 90_000 });
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toMatch(/^ {3}\(a\) app token requests: 200(, 200)*; IMDS requests: \d+; Key Vault signatures: 0$/m);
    expect(stdout).toMatch(/^ {3}\(b\) app token requests: (200, )+401 AADSTS700027, 200(, 200)*; IMDS requests: \d+; Key Vault signatures: \d+; certificate versions (\w+) → (?!\1)\w+$/m);
    expect(stdout).toMatch(/^>> rotated: /m);
    expect(stdout).toMatch(/^Done: /m);
    expectNothingSecret(stdout);
  }, 120_000);

  it.concurrent("pnpm start runs on an App Service-style host until SIGTERM, never printing the identity header", async () => {
    // Plain HTTP, as the platform's identity endpoints are; the app trusts the user-assigned identity.
    const emulator = await startEmulator({ config: secretlessEmulatorConfig() });
    const api = await startOrdersApi({ issuer: emulator.issuer(demo.customerTenantId), jwksUri: emulator.jwksUri(demo.customerTenantId), audience: demo.apiIdentifierUri });
    try {
      trustUserAssignedIdentity(emulator);
      const platform = emulator.managedIdentityEnvironment("app-service");
      const daemon = startNode(fileURLToPath(new URL("../dist/start.js", import.meta.url)), [], {
        timeoutMs: 60_000,
        env: daemonEnvironment({
          ...platform,
          AZURE_AUTHORITY_HOST: emulator.url,
          AZURE_TENANT_ID: demo.customerTenantId,
          APP_CLIENT_ID: demo.appClientId,
          MANAGED_IDENTITY_CLIENT_ID: demo.userIdentityClientId,
          API_SCOPE: demo.apiScope,
          API_URL: api.url,
          DAEMON_INTERVAL_MS: "60000",
        }),
      });
      await daemon.waitForOutput(/^run 1: 200 OK, 3 orders \(token from network\)$/m, 60_000);
      daemon.kill("SIGTERM");
      const { code, stdout, stderr } = await daemon.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toContain("answers through app-service");
      expect(stdout).toContain("until stopped");
      expect(stdout).not.toContain("run 2:");
      expect(emulator.requests.filter((request) => request.path === "/msi/token")).toHaveLength(1);
      expect(emulator.tokenRequestCount({ clientId: demo.appClientId, tenant: demo.customerTenantId })).toBe(1);
      expect(stdout).not.toContain(platform["IDENTITY_HEADER"]);
      expectNothingSecret(stdout);
    } finally {
      await api.close();
      await emulator.close();
    }
  }, 90_000);
});

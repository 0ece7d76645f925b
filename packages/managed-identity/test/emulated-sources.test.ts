// Cloud Shell, Azure Arc and Service Fabric against the emulator's endpoints for them:
// Cloud Shell's POST form, Arc's 401 challenge naming a key file the emulator writes,
// Service Fabric over HTTPS with the emulator's certificate pinned by thumbprint.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityClient } from "../src/index.js";
import { API, API_SCOPE, claimsOf, expectNoSecret, ids, printed, recordingLogger, testConfig } from "./helpers.js";

let http: Emulator;
let https: Emulator;
let arcDirectory: string;

beforeAll(async () => {
  arcDirectory = await mkdtemp(join(tmpdir(), "daemon-auth-mi-arc-"));
  [http, https] = await Promise.all([
    startEmulator({ config: testConfig(), arcKeyDirectory: arcDirectory }),
    startEmulator({ config: testConfig(), https: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([http?.close(), https?.close()]);
  await rm(arcDirectory, { recursive: true, force: true });
});

const systemClaims = { aud: API, oid: ids.systemIdentityObjectId, tid: ids.tenantId, roles: ["Orders.Read.All"] };

describe("sources the emulator serves besides IMDS and App Service", () => {
  it("Cloud Shell: the system-assigned identity's token through the POST form", async () => {
    const client = createManagedIdentityClient({ env: http.managedIdentityEnvironment("cloud-shell") });
    expect(client.source).toBe("cloud-shell");
    const { accessToken } = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(claimsOf(accessToken)).toMatchObject(systemClaims);
    await client.dispose();
  });

  it("Azure Arc: answers the challenge with the key file, system- and user-assigned, keeping the key out of every output", async () => {
    const env = http.managedIdentityEnvironment("arc");
    const logger = recordingLogger();
    const system = createManagedIdentityClient({ env, logger, azureArcKeyDirectoryForTests: arcDirectory });
    expect(system.source).toBe("azure-arc");
    const { accessToken } = await system.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(claimsOf(accessToken)).toMatchObject(systemClaims);
    const user = createManagedIdentityClient({ env, clientId: ids.userIdentityClientId, azureArcKeyDirectoryForTests: arcDirectory });
    const userToken = await user.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(claimsOf(userToken.accessToken)).toMatchObject({ oid: ids.userIdentityObjectId });
    const arcRequests = http.requests.filter((request) => request.path.includes("azure-arc")).map((request) => request.status);
    expect(arcRequests).toEqual([401, 200, 401, 200]);
    expectNoSecret([...logger.lines, ...printed(system)], [accessToken]);
    await Promise.all([system.dispose(), user.dispose()]);
  });

  it("Azure Arc: refuses the emulator's key file when it is not in the agent's directory", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), "daemon-auth-mi-not-arc-"));
    const client = createManagedIdentityClient({ env: http.managedIdentityEnvironment("arc"), azureArcKeyDirectoryForTests: elsewhere });
    await expect(client.acquireTokenForClient({ scopes: [API_SCOPE] })).rejects.toThrow(/not a '\.key' file in the agent's token directory/);
    await client.dispose();
    await rm(elsewhere, { recursive: true, force: true });
  });

  it("Service Fabric: HTTPS to the emulator's certificate pinned by IDENTITY_SERVER_THUMBPRINT, no CA configured", async () => {
    const env = https.managedIdentityEnvironment("service-fabric");
    const client = createManagedIdentityClient({ env, clientId: ids.userIdentityClientId });
    expect(client.source).toBe("service-fabric");
    const { accessToken } = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(claimsOf(accessToken)).toMatchObject({ oid: ids.userIdentityObjectId });
    expectNoSecret(printed(client), [env["IDENTITY_HEADER"] ?? "", accessToken]);
    await client.dispose();

    const wrong = createManagedIdentityClient({ env: { ...env, IDENTITY_SERVER_THUMBPRINT: "AB".repeat(20) } });
    const before = https.requests.length;
    await expect(wrong.acquireTokenForClient({ scopes: [API_SCOPE] })).rejects.toThrow(/TLS certificate does not have the thumbprint/);
    expect(https.requests.length).toBe(before);
    await wrong.dispose();
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- peers print loosely typed JSON */
// Unmodified managed identity clients get tokens from the emulator's IMDS and App Service
// endpoints: @azure/msal-node's ManagedIdentityApplication, @azure/identity's
// ManagedIdentityCredential and Python's azure-identity, each in a child process whose
// environment is exactly what emulator.managedIdentityEnvironment() returns.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type ManagedIdentitySource } from "../src/index.js";
import { CONTOSO } from "./helpers.js";
import { managedIdentityConfig, runInEnvironment, SYSTEM_MI, USER_MI } from "./managed-identity-helpers.js";

const NODE_PEER = fileURLToPath(new URL("./fixtures/managed-identity-peer.mjs", import.meta.url));
const PYTHON_PEER = fileURLToPath(new URL("./fixtures/managed_identity_peer.py", import.meta.url));
const PYTHON = process.env["DAEMON_AUTH_PYTHON"] ?? "/usr/bin/python3";
const pythonMissing = ((): string | undefined => {
  const probe = spawnSync(PYTHON, ["-c", "import azure.identity"], { encoding: "utf8" });
  if (probe.error !== undefined) return `${PYTHON} cannot run (${probe.error.message})`;
  return probe.status === 0 ? undefined : `${PYTHON} has no azure.identity module (${probe.stderr.trim().split("\n").pop() ?? ""})`;
})();

let emulator: Emulator;

beforeAll(async () => {
  // Plain HTTP, as IMDS and the App Service endpoint are.
  emulator = await startEmulator({ config: managedIdentityConfig() });
});

afterAll(async () => {
  await emulator?.close();
});

const sources: ManagedIdentitySource[] = ["imds", "app-service"];
const PATHS: Record<string, string> = { imds: "/metadata/identity/oauth2/token", "app-service": "/msi/token", "cloud-shell": "/cloud-shell/oauth2/token", arc: "/azure-arc/metadata/identity/oauth2/token" };

function miRequests(source: ManagedIdentitySource): { clientId?: string; status: number }[] {
  return emulator.requests.filter((request) => request.path.replace(/\/$/, "") === PATHS[source]);
}

function node(source: ManagedIdentitySource, input: Record<string, unknown>): Promise<Record<string, any>> {
  return runInEnvironment(process.execPath, [NODE_PEER], emulator.managedIdentityEnvironment(source), input);
}

describe.each(["imds", "app-service", "cloud-shell"] as const)("%s, system-assigned", (source) => {
  it("msal-node ManagedIdentityApplication gets the system-assigned identity's token, then serves it from its cache", async () => {
    emulator.resetRequests();
    const result = await node(source, { mode: "msal", resource: "api://orders" });
    expect(result).toMatchObject({ ok: true, cachedSame: true, source: { imds: "DefaultToImds", "app-service": "AppService", "cloud-shell": "CloudShell" }[source] });
    expect(result.claims).toMatchObject({ aud: "api://orders", oid: SYSTEM_MI.objectId, sub: SYSTEM_MI.objectId, appid: SYSTEM_MI.clientId, tid: CONTOSO, roles: ["Orders.Read.All"], iss: emulator.issuer(CONTOSO) });
    expect(Date.parse(result.expiresOn) - Date.now()).toBeGreaterThan(3000_000);
    expect(miRequests(source)).toEqual([expect.objectContaining({ clientId: SYSTEM_MI.clientId, status: 200 })]);
  });

  it("@azure/identity ManagedIdentityCredential gets the system-assigned identity's token", async () => {
    const system = await node(source, { mode: "identity", resource: "api://orders" });
    expect(system).toMatchObject({ ok: true });
    expect(system.claims).toMatchObject({ aud: "api://orders", oid: SYSTEM_MI.objectId, idtyp: "app" });
  });

  it.skipIf(pythonMissing !== undefined)(`Python azure-identity ManagedIdentityCredential gets it${pythonMissing === undefined ? "" : ` (skipped: ${pythonMissing})`}`, async () => {
    const system = await runInEnvironment(PYTHON, [PYTHON_PEER], emulator.managedIdentityEnvironment(source), { resource: "api://orders" });
    expect(system).toMatchObject({ ok: true });
    expect(system.claims).toMatchObject({ aud: "api://orders", oid: SYSTEM_MI.objectId });
    expect(system.expiresOn * 1000 - Date.now()).toBeGreaterThan(3000_000);
  });
});

describe.each(sources)("%s, user-assigned", (source) => {
  it("msal-node gets a user-assigned identity's token by client id", async () => {
    const result = await node(source, { mode: "msal", resource: "api://orders", clientId: USER_MI.clientId });
    expect(result).toMatchObject({ ok: true });
    expect(result.claims).toMatchObject({ oid: USER_MI.objectId, azp: USER_MI.clientId, roles: ["Orders.Write.All"], xms_mirid: USER_MI.resourceId });
  });

  it("@azure/identity ManagedIdentityCredential gets a user-assigned identity's token", async () => {
    const user = await node(source, { mode: "identity", resource: "api://orders", clientId: USER_MI.clientId });
    expect(user).toMatchObject({ ok: true });
    expect(user.claims).toMatchObject({ oid: USER_MI.objectId, appid: USER_MI.clientId });
  });

  it("@azure/identity reports an unknown user-assigned identity as a failure", async () => {
    const result = await node(source, { mode: "identity", resource: "api://orders", clientId: "eeeeeeee-0000-4000-8000-000000000009" });
    expect(result.ok).toBe(false);
  });

  it.skipIf(pythonMissing !== undefined)(`Python azure-identity ManagedIdentityCredential gets a user-assigned identity's token${pythonMissing === undefined ? "" : ` (skipped: ${pythonMissing})`}`, async () => {
    const user = await runInEnvironment(PYTHON, [PYTHON_PEER], emulator.managedIdentityEnvironment(source), { resource: "api://orders", clientId: USER_MI.clientId });
    expect(user).toMatchObject({ ok: true });
    expect(user.claims).toMatchObject({ oid: USER_MI.objectId, xms_mirid: USER_MI.resourceId });
  });
});

describe("arc", () => {
  // msal-node (and so @azure/identity) read Arc key files only from /var/opt/azcmagent/tokens/, which a test
  // cannot write; Python's azure-identity reads the file the challenge names, as the protocol says.
  it.skipIf(pythonMissing !== undefined)(`Python azure-identity answers the key file challenge and gets the token${pythonMissing === undefined ? "" : ` (skipped: ${pythonMissing})`}`, async () => {
    emulator.resetRequests();
    const result = await runInEnvironment(PYTHON, [PYTHON_PEER], emulator.managedIdentityEnvironment("arc"), { resource: "api://orders" });
    expect(result).toMatchObject({ ok: true });
    expect(result.claims).toMatchObject({ aud: "api://orders", oid: SYSTEM_MI.objectId });
    expect(miRequests("arc").map((request) => request.status)).toEqual([401, 200]);
  });
});

describe("service-fabric (HTTPS, certificate thumbprint)", () => {
  let secure: Emulator;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "emulator-mi-sf-"));
    secure = await startEmulator({ https: true, certificateDir: dir, config: managedIdentityConfig() });
  });

  afterAll(async () => {
    await secure?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("names the server certificate's thumbprint", () => {
    const environment = secure.managedIdentityEnvironment("service-fabric");
    expect(environment).toMatchObject({ IDENTITY_ENDPOINT: `${secure.url}/service-fabric/metadata/identity/oauth2/token`, IDENTITY_HEADER: secure.managedIdentityEnvironment("app-service").IDENTITY_HEADER });
    expect(environment.IDENTITY_SERVER_THUMBPRINT).toMatch(/^[0-9A-F]{40}$/);
    expect(() => emulator.managedIdentityEnvironment("service-fabric")).toThrow(/start the emulator with https: true/);
  });

  it.each(["msal", "identity"])("%s gets the system-assigned token (msal-node also a user-assigned one)", async (mode) => {
    const environment = { ...secure.managedIdentityEnvironment("service-fabric"), NODE_EXTRA_CA_CERTS: secure.caCertificatePath! };
    const system = await runInEnvironment(process.execPath, [NODE_PEER], environment, { mode, resource: "api://orders" });
    expect(system).toMatchObject({ ok: true });
    expect(system.claims).toMatchObject({ aud: "api://orders", oid: SYSTEM_MI.objectId, iss: secure.issuer(CONTOSO) });
    const user = await runInEnvironment(process.execPath, [NODE_PEER], environment, { mode, resource: "api://orders", clientId: USER_MI.clientId });
    if (mode === "msal") {
      expect(system.source).toBe("ServiceFabric");
      expect(user).toMatchObject({ ok: true });
      expect(user.claims).toMatchObject({ oid: USER_MI.objectId });
    } else {
      // @azure/identity refuses user-assigned ids on Service Fabric itself: the cluster's configuration picks the identity.
      expect(user).toMatchObject({ ok: false });
    }
  });

  it.skipIf(pythonMissing !== undefined)(`Python azure-identity gets the token${pythonMissing === undefined ? "" : ` (skipped: ${pythonMissing})`}`, async () => {
    const result = await runInEnvironment(PYTHON, [PYTHON_PEER], secure.managedIdentityEnvironment("service-fabric"), { resource: "api://orders" });
    expect(result).toMatchObject({ ok: true });
    expect(result.claims).toMatchObject({ oid: SYSTEM_MI.objectId });
  });
});

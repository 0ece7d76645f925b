/* eslint-disable @typescript-eslint/no-explicit-any -- configs are mutated loosely to make them invalid */
// The managedIdentities configuration (shape and rules, from code and from a file), the
// facade's managedIdentityEnvironment, the demo directory's identities and the CLI's
// export lines.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoEmulatorConfig, demoEmulatorIdentities, EmulatorConfigError, loadEmulatorConfig, startEmulator, type ManagedIdentitySource } from "../src/index.js";
import { DAEMON } from "./helpers.js";
import { managedIdentityConfig, SYSTEM_MI, USER_MI } from "./managed-identity-helpers.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-mi-config-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function mutate(change: (config: any) => void): any {
  const config: any = managedIdentityConfig();
  change(config);
  return config;
}

describe("managedIdentities configuration", () => {
  it.each([
    ["a client id that is not a GUID", mutate((c) => (c.managedIdentities[0].clientId = "vm-identity")), /managedIdentities\[0\]\.clientId: "vm-identity" is not a GUID/],
    ["an object id that is not a GUID", mutate((c) => (c.managedIdentities[1].objectId = 42)), /managedIdentities\[1\]\.objectId: expected the identity's object \(principal\) id, a GUID, got a number/],
    ["a second system-assigned identity", mutate((c) => (c.managedIdentities[1] = { ...c.managedIdentities[1], resourceId: undefined, systemAssigned: true })), /managedIdentities\[1\]\.systemAssigned: managedIdentities\[0\] is already system-assigned/],
    ["an unknown tenant", mutate((c) => (c.managedIdentities[0].tenant = "nowhere.example")), /managedIdentities\[0\]\.tenant: "nowhere.example" matches no tenant/],
    ["a resource id of another kind", mutate((c) => (c.managedIdentities[1].resourceId = "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/vm")), /managedIdentities\[1\]\.resourceId: .* is not a user-assigned identity's ARM id/],
    ["a resource id on the system-assigned identity", mutate((c) => (c.managedIdentities[0].resourceId = USER_MI.resourceId.replace("orders-daemon", "other"))), /managedIdentities\[0\]\.resourceId: a system-assigned identity has no userAssignedIdentities resource id/],
    ["a client id of an application", mutate((c) => (c.managedIdentities[1].clientId = DAEMON.toUpperCase())), /managedIdentities\[1\]\.clientId: .* is already the client id of an application/],
    ["a repeated object id", mutate((c) => (c.managedIdentities[1].objectId = SYSTEM_MI.objectId)), /managedIdentities\[1\]\.objectId: managedIdentities\[0\] has the same objectId/],
    ["an unknown field", mutate((c) => (c.managedIdentities[0].principalId = SYSTEM_MI.objectId)), /managedIdentities\[0\]\.principalId: unknown field/],
    ["a grant of an undeclared role to an identity", mutate((c) => c.grants.push({ tenant: c.tenants[0].id, clientId: SYSTEM_MI.clientId, resource: "api://orders", roles: ["Nope"] })), /grants\[\d+\]\.roles\[0\]: "Nope" is not an app role/],
  ])("refuses %s with the field and the fix", async (_name, config, message) => {
    await expect(startEmulator({ config })).rejects.toBeInstanceOf(EmulatorConfigError);
    await expect(startEmulator({ config })).rejects.toThrow(message);
    const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, JSON.stringify(config));
    await expect(loadEmulatorConfig(path)).rejects.toThrow(message);
  });

  it("loads identities and their grants from a file", async () => {
    const path = join(dir, "valid.json");
    await writeFile(path, JSON.stringify(managedIdentityConfig()));
    const loaded = await loadEmulatorConfig(path);
    expect(loaded.managedIdentities).toEqual(managedIdentityConfig().managedIdentities);
    expect(await loadEmulatorConfig(await writeDemo())).toEqual(demoEmulatorConfig());
  });
});

async function writeDemo(): Promise<string> {
  const path = join(dir, "demo.json");
  await writeFile(path, JSON.stringify(demoEmulatorConfig()));
  return path;
}

describe("managedIdentityEnvironment", () => {
  it("names the variables msal-node and @azure/identity read, and refuses a source the emulator does not serve", async () => {
    const emulator = await startEmulator({ config: managedIdentityConfig() });
    try {
      expect(emulator.managedIdentityEnvironment("imds")).toEqual({ AZURE_POD_IDENTITY_AUTHORITY_HOST: emulator.url });
      const appService = emulator.managedIdentityEnvironment("app-service");
      expect(appService.IDENTITY_ENDPOINT).toBe(`${emulator.url}/msi/token`);
      expect(appService.IDENTITY_HEADER).toMatch(/^[\w-]{32}$/);
      // The header is random per emulator, and the facade does not show it.
      const other = await startEmulator({ config: managedIdentityConfig() });
      expect(other.managedIdentityEnvironment("app-service").IDENTITY_HEADER).not.toBe(appService.IDENTITY_HEADER);
      await other.close();
      expect(JSON.stringify(emulator) + inspect(emulator, { depth: 5 })).not.toContain(appService.IDENTITY_HEADER);
      expect(emulator.managedIdentityEnvironment("cloud-shell")).toEqual({ MSI_ENDPOINT: `${emulator.url}/cloud-shell/oauth2/token` });
      expect(emulator.managedIdentityEnvironment("arc")).toEqual({ IDENTITY_ENDPOINT: `${emulator.url}/azure-arc/metadata/identity/oauth2/token`, IMDS_ENDPOINT: emulator.url });
      expect(() => emulator.managedIdentityEnvironment("service-fabric")).toThrow(EmulatorConfigError);
      expect(() => emulator.managedIdentityEnvironment("service-fabric")).toThrow(/HTTPS with a pinned certificate: start the emulator with https: true/);
      expect(() => emulator.managedIdentityEnvironment("machine-learning" as ManagedIdentitySource)).toThrow(/does not serve the "machine-learning" managed identity source; use one of imds, app-service, cloud-shell, arc, service-fabric/);
    } finally {
      await emulator.close();
    }
  });
});

describe("the CLI with the demo directory", () => {
  it("lists the identities and prints the export lines of both sources, which work", async () => {
    const packageDir = fileURLToPath(new URL("..", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", "src/bin-entry.ts", "--port", "0", "--quiet"], { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.on("close", resolve));
    try {
      for (let attempt = 0; attempt < 600 && !output.includes("Press Ctrl-C"); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      const ids = demoEmulatorIdentities;
      expect(output).toContain(`managed identity demo host (system-assigned): client id ${ids.systemIdentityClientId}, object id ${ids.systemIdentityObjectId}, system-assigned`);
      expect(output).toContain(`user-assigned ${ids.userIdentityResourceId}`);
      expect(output).toContain(`  export AZURE_POD_IDENTITY_AUTHORITY_HOST=${url}\n`);
      expect(output).toContain(`  export IDENTITY_ENDPOINT=${url}/msi/token\n`);
      const header = /export IDENTITY_HEADER=(\S+)/.exec(output)?.[1] ?? "";
      const response = await fetch(`${url}/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ids.apiIdentifierUri)}`, { headers: { "X-IDENTITY-HEADER": header } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { client_id: string };
      expect(body.client_id).toBe(ids.systemIdentityClientId);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});

describe("secret ledger", () => {
  it("records the identity header once it is handed out, and every Arc key the emulator writes", async () => {
    const previous = process.env["DAEMON_AUTH_SECRET_LEDGER"];
    const ledger = join(dir, "ledger.jsonl");
    process.env["DAEMON_AUTH_SECRET_LEDGER"] = ledger;
    const emulator = await startEmulator({ config: managedIdentityConfig(), arcKeyDirectory: join(dir, "arc") });
    try {
      await writeFile(ledger, "", { mode: 0o600 });
      emulator.managedIdentityEnvironment("imds");
      const { IDENTITY_HEADER } = emulator.managedIdentityEnvironment("app-service");
      const { IDENTITY_ENDPOINT } = emulator.managedIdentityEnvironment("arc");
      const challenge = await fetch(`${IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=api://orders`, { headers: { Metadata: "true" } });
      const keyFile = /realm=(.+)$/.exec(challenge.headers.get("www-authenticate") ?? "")?.[1] ?? "";
      const entries = (await readFile(ledger, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { kind: string; value: string });
      expect(entries).toEqual([
        { kind: "identity header", value: IDENTITY_HEADER },
        { kind: "arc key", value: await readFile(keyFile, "utf8") },
      ]);
    } finally {
      if (previous === undefined) delete process.env["DAEMON_AUTH_SECRET_LEDGER"];
      else process.env["DAEMON_AUTH_SECRET_LEDGER"] = previous;
      await emulator.close();
    }
  });
});

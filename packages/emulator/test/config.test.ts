/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON bodies are inspected loosely in tests */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmulatorConfigError, demoEmulatorConfig, demoEmulatorIdentities, loadEmulatorConfig, startEmulator } from "../src/index.js";
import { CONTOSO, DAEMON, postToken, secretForm, testConfig } from "./helpers.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-config-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(content: unknown): Promise<unknown> {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return loadEmulatorConfig(path);
}

function mutate(change: (config: any) => void): unknown {
  const config: any = testConfig();
  change(config);
  return config;
}

describe("loadEmulatorConfig", () => {
  it("loads a valid file", async () => {
    expect(await load(testConfig())).toMatchObject({ tenants: expect.any(Array), applications: expect.any(Array) });
    expect(await load(demoEmulatorConfig())).toEqual(demoEmulatorConfig());
  });

  it.each([
    ["a missing file", null, /cannot read.*check the path/],
    ["invalid JSON", "{ nope", /not valid JSON/],
    ["a missing tenants array", { applications: [] }, /tenants: expected an array/],
    ["an unknown field", mutate((c) => (c.tenants[0].domain = "x")), /tenants\[0\]\.domain: unknown field.*known fields: id, domains, displayName/],
    ["a tenant id that is not a GUID", mutate((c) => (c.tenants[0].id = "contoso")), /tenants\[0\]\.id: "contoso" is not a GUID/],
    ["a bad domain", mutate((c) => (c.tenants[0].domains = ["not a domain"])), /tenants\[0\]\.domains\[0\]/],
    ["a duplicate domain", mutate((c) => (c.tenants[1].domains = ["contoso.example"])), /tenants\[1\]\.domains\[0\]: domain contoso.example already belongs/],
    ["an unknown home tenant", mutate((c) => (c.applications[0].homeTenant = "nowhere.example")), /applications\[0\]\.homeTenant: "nowhere.example" matches no tenant/],
    ["a duplicate client id", mutate((c) => (c.applications[1].clientId = DAEMON.toUpperCase())), /applications\[1\]\.clientId: .*already exists/],
    ["a bad expiry", mutate((c) => (c.applications[0].secrets[0].expiresAt = "tomorrow")), /applications\[0\]\.secrets\[0\]\.expiresAt: "tomorrow" is not an ISO 8601/],
    ["an unreadable certificate", mutate((c) => (c.applications[0].certificates = [{ pem: "garbage" }])), /applications\[0\]\.certificates\[0\]\.pem: is not a readable X.509/],
    ["an identifier URI with /.default", mutate((c) => (c.applications[2].identifierUris = ["api://orders/.default"])), /identifierUris\[0\].*without \/\.default/],
    ["a duplicate identifier URI", mutate((c) => (c.applications[3].identifierUris = ["API://orders/"])), /applications\[3\]\.identifierUris\[0\]: API:\/\/orders\/ is already/],
    ["a grant to an undeclared role", mutate((c) => (c.grants[0].roles = ["Orders.Delete"])), /grants\[0\]\.roles\[0\]: "Orders.Delete" is not an app role of api:\/\/orders; declared roles: Orders.Read.All/],
    ["a grant to an unknown resource", mutate((c) => (c.grants[0].resource = "api://nope")), /grants\[0\]\.resource: "api:\/\/nope" matches no application/],
    ["a grant of a single-tenant app in another tenant", mutate((c) => (c.grants[0].tenant = "fabrikam.onmicrosoft.com")), /grants\[0\]\.tenant: application .* is single-tenant.*set multiTenant: true/],
  ])("reports %s with the field and the fix", async (_name, content, message) => {
    const promise = content === null ? loadEmulatorConfig(join(dir, "missing.json")) : load(content);
    await expect(promise).rejects.toBeInstanceOf(EmulatorConfigError);
    await expect(promise).rejects.toThrow(message);
  });

  it("names the file in the message", async () => {
    await expect(load({ tenants: "x", applications: [] })).rejects.toThrow(/\.json: tenants: expected an array/);
  });
});

describe("startEmulator validation", () => {
  it("rejects an invalid config and bad options", async () => {
    await expect(startEmulator({ config: mutate((c) => (c.tenants[0].id = "x")) as never })).rejects.toThrow(EmulatorConfigError);
    await expect(startEmulator({ port: 70000 })).rejects.toThrow(/port/);
    await expect(startEmulator({ tokenLifetimeSeconds: 0 })).rejects.toThrow(/tokenLifetimeSeconds/);
  });

  it("validates run-time changes", async () => {
    const emulator = await startEmulator({ config: testConfig() });
    try {
      expect(() => emulator.addTenant({ id: CONTOSO })).toThrow(/already exists/);
      expect(() => emulator.addApplication({ clientId: "x y", homeTenant: CONTOSO })).toThrow(/whitespace/);
      expect(() => emulator.addSecret("unknown-client", { value: "s" })).toThrow(/no application has client id/);
      expect(() => emulator.addSecret(DAEMON, { value: "" })).toThrow(/secret.value/);
      expect(() => emulator.addCertificate(DAEMON, { pem: "nope" })).toThrow(/X.509/);
      expect(() => emulator.grant({ tenant: CONTOSO, clientId: DAEMON, resource: "api://orders", roles: ["Nope"] })).toThrow(/not an app role/);
      expect(() => emulator.revoke({ tenant: "nowhere.example", clientId: DAEMON })).toThrow(/matches no tenant/);
      // Nothing above changed the directory.
      expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  it("reports a port in use with the fix", async () => {
    const first = await startEmulator();
    try {
      const port = Number(new URL(first.url).port);
      await expect(startEmulator({ port })).rejects.toThrow(/in use; pass another port/);
    } finally {
      await first.close();
    }
  });
});

describe("demo config", () => {
  it("issues the demo daemon a token for the demo API with its granted role", async () => {
    const emulator = await startEmulator({ config: demoEmulatorConfig() });
    try {
      const ids = demoEmulatorIdentities;
      const { status, body } = await postToken(emulator, ids.tenantDomain, {
        grant_type: "client_credentials",
        client_id: ids.daemonClientId,
        client_secret: ids.daemonClientSecret,
        scope: ids.apiScope,
      });
      expect(status).toBe(200);
      const claims = JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString());
      expect(claims).toMatchObject({ aud: ids.apiIdentifierUri, tid: ids.tenantId, roles: ["Orders.Read.All"] });
    } finally {
      await emulator.close();
    }
  });
});

// Source detection in msal-node's order, and the exact request shape of Cloud Shell,
// Machine Learning (which the emulator does not serve), Azure Arc and Service Fabric,
// each against a real loopback server written here that answers as the platform does,
// including refusals a real agent would not provoke (key files outside the directory,
// links, a certificate with another thumbprint). These servers check what the client
// sends; they are not the platforms (emulated-sources.test.ts uses the emulator's).
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError, CredentialError, HttpError } from "@daemon-auth/core";
import { createTestCertificateAuthority, type TestCertificateAuthority } from "@daemon-auth/test-utils";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityClient, type ManagedIdentitySource } from "../src/index.js";
import { API, API_SCOPE, expectNoSecret, fakeJwt, ids, printed, sendJson, startLoopbackServer, tokenAnswer, type LoopbackServer } from "./helpers.js";

const GUID = ids.userIdentityClientId;
let servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function server(...args: Parameters<typeof startLoopbackServer>): Promise<LoopbackServer> {
  const started = await startLoopbackServer(...args);
  servers.push(started);
  return started;
}

describe("source detection", () => {
  const E = "http://127.0.0.1:1/token";
  it.each<[string, Record<string, string>, ManagedIdentitySource]>([
    ["all three Service Fabric variables", { IDENTITY_ENDPOINT: "https://127.0.0.1:1/", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "A".repeat(40), MSI_ENDPOINT: E }, "service-fabric"],
    ["IDENTITY_ENDPOINT and IDENTITY_HEADER", { IDENTITY_ENDPOINT: E, IDENTITY_HEADER: "h", MSI_ENDPOINT: E, IMDS_ENDPOINT: E }, "app-service"],
    ["MSI_ENDPOINT and MSI_SECRET", { MSI_ENDPOINT: E, MSI_SECRET: "s", IDENTITY_ENDPOINT: E, IMDS_ENDPOINT: E }, "machine-learning"],
    ["MSI_ENDPOINT alone", { MSI_ENDPOINT: E, IDENTITY_ENDPOINT: E, IMDS_ENDPOINT: E }, "cloud-shell"],
    ["IDENTITY_ENDPOINT and IMDS_ENDPOINT", { IDENTITY_ENDPOINT: E, IMDS_ENDPOINT: "http://127.0.0.1:1" }, "azure-arc"],
    ["an empty IDENTITY_HEADER (unset, as msal-node reads it)", { IDENTITY_ENDPOINT: E, IDENTITY_HEADER: "" }, "imds"],
    ["nothing", {}, "imds"],
  ])("%s → %s", (_case, env, expected) => {
    expect(createManagedIdentityClient({ env }).source).toBe(expected);
  });

  it("refuses what a source cannot do, naming the fix", () => {
    expect(() => createManagedIdentityClient({ env: { MSI_ENDPOINT: "http://127.0.0.1:1/" }, clientId: GUID })).toThrow(
      /\(cloud-shell\): this source serves only its system-assigned identity; remove 'clientId'/,
    );
    expect(() => createManagedIdentityClient({ env: { MSI_ENDPOINT: "http://127.0.0.1:1/", MSI_SECRET: "s" }, objectId: GUID })).toThrow(
      /\(machine-learning\).*by its client id.*pass the identity's 'clientId'/,
    );
    expect(() => createManagedIdentityClient({ env: { IDENTITY_ENDPOINT: "http://127.0.0.1:1/", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "A".repeat(40) } })).toThrow(
      /\(service-fabric\): IDENTITY_ENDPOINT must be an https URL/,
    );
    expect(() => createManagedIdentityClient({ env: { IDENTITY_ENDPOINT: "https://127.0.0.1:1/", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "nope" } })).toThrow(
      /IDENTITY_SERVER_THUMBPRINT must be the endpoint certificate's SHA-1/,
    );
    expect(() => createManagedIdentityClient({ env: { IDENTITY_ENDPOINT: "::", IDENTITY_HEADER: "h" } })).toThrow(/\(app-service\): the environment variable IDENTITY_ENDPOINT is not an http\(s\) URL/);
  });
});

describe("Cloud Shell (loopback server)", () => {
  it("POSTs the resource as a form with Metadata: true, and reads a numeric expires_on", async () => {
    const token = fakeJwt();
    const cloudShell = await server((_request, response) => sendJson(response, 200, tokenAnswer(token, { expires_on: Math.floor(Date.now() / 1000) + 3600 })));
    const client = createManagedIdentityClient({ env: { MSI_ENDPOINT: `${cloudShell.url}/oauth2/token` } });
    const result = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(result.accessToken).toBe(token);
    expect(Math.abs(result.expiresOn.getTime() - (Date.now() + 3600_000))).toBeLessThan(5_000);
    const [seen] = cloudShell.requests;
    expect(seen).toMatchObject({ method: "POST", body: `resource=${encodeURIComponent(API)}` });
    expect(seen?.url.pathname).toBe("/oauth2/token");
    expect(seen?.headers).toMatchObject({ metadata: "true", "content-type": "application/x-www-form-urlencoded" });
    await client.dispose();
  });

  it("honours expires_in and refresh_in when the platform sends them instead of expires_on", async () => {
    const cloudShell = await server((_request, response) => sendJson(response, 200, { access_token: fakeJwt(), token_type: "Bearer", expires_in: "7200", refresh_in: 600 }));
    const client = createManagedIdentityClient({ env: { MSI_ENDPOINT: cloudShell.url } });
    const result = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(Math.abs(result.expiresOn.getTime() - (Date.now() + 7200_000))).toBeLessThan(5_000);
    expect(Math.abs(result.refreshOn.getTime() - (Date.now() + 600_000))).toBeLessThan(5_000);
    await client.dispose();
  });
});

describe("Machine Learning (loopback server)", () => {
  it("GETs api-version 2017-09-01 with the secret header and the default identity's clientid", async () => {
    const ml = await server((_request, response) => sendJson(response, 200, tokenAnswer()));
    const secret = "machine-learning-secret-0123456789";
    const client = createManagedIdentityClient({ env: { MSI_ENDPOINT: ml.url, MSI_SECRET: secret, DEFAULT_IDENTITY_CLIENT_ID: GUID } });
    await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    const [seen] = ml.requests;
    expect(seen?.method).toBe("GET");
    expect(Object.fromEntries(seen?.url.searchParams ?? [])).toEqual({ "api-version": "2017-09-01", resource: API, clientid: GUID });
    expect(seen?.headers).toMatchObject({ metadata: "true", secret });
    expectNoSecret(printed(client), [secret]);
    await client.dispose();
  });
});

describe("Azure Arc (loopback server and key files)", () => {
  let directory: string;
  let outside: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "daemon-auth-arc-tokens-"));
    outside = await mkdtemp(join(tmpdir(), "daemon-auth-arc-outside-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  /** An Arc agent: 401 naming `keyFile`, then the token for `Authorization: Basic <key>`. */
  async function arcAgent(keyFile: string, echo: Record<string, string> = {}): Promise<LoopbackServer> {
    return server((request, response) => {
      void readFile(keyFile, "utf8")
        .catch(() => "")
        .then((key) => {
          if (request.headers.authorization === `Basic ${key}` && key !== "") sendJson(response, 200, tokenAnswer(fakeJwt(), echo));
          else sendJson(response, 401, { error: "unauthorized" }, { "www-authenticate": `Basic realm=${keyFile}` });
        });
    });
  }

  const arcEnv = (agent: LoopbackServer) => ({ IDENTITY_ENDPOINT: `${agent.url.replace("127.0.0.1", "localhost")}/metadata/identity/oauth2/token`, IMDS_ENDPOINT: agent.url });

  it("answers the 401 challenge with the key from the agent's directory, keeping the key out of every output", async () => {
    const key = "arc-challenge-key-0123456789abcdef";
    const keyFile = join(directory, "challenge.key");
    await writeFile(keyFile, key, { mode: 0o600 });
    const agent = await arcAgent(keyFile);
    const client = createManagedIdentityClient({ env: arcEnv(agent), azureArcKeyDirectoryForTests: directory });
    expect(client.source).toBe("azure-arc");
    await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(agent.requests.map((request) => request.headers.authorization)).toEqual([undefined, `Basic ${key}`]);
    expect(Object.fromEntries(agent.requests[0]?.url.searchParams ?? [])).toEqual({ "api-version": "2020-06-01", resource: API });
    expect(agent.requests[0]?.headers).toMatchObject({ metadata: "true", host: expect.stringMatching(/^127\.0\.0\.1:/) });
    expectNoSecret(printed(client), [key]);
    await client.dispose();
  });

  it.each([
    ["outside the agent's directory", async () => writeAt(join(outside, "challenge.key"), "outside-directory-secret-0123456789")],
    ["not a .key file", async () => writeAt(join(directory, "challenge.txt"), "wrong-extension-secret-0123456789")],
    ["larger than 4096 bytes", async () => writeAt(join(directory, "large.key"), "L".repeat(5000))],
    ["a symbolic link", async () => {
      const target = await writeAt(join(outside, "target.key"), "symlink-target-secret-0123456789");
      const link = join(directory, "link.key");
      await rm(link, { force: true });
      await symlink(target, link);
      return link;
    }],
  ])("refuses a challenge naming a file %s, and never sends or shows its content", async (_case, makeFile) => {
    const keyFile = await makeFile();
    const content = await readFile(keyFile, "utf8");
    const agent = await arcAgent(keyFile);
    const client = createManagedIdentityClient({ env: arcEnv(agent), azureArcKeyDirectoryForTests: directory });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toMatch(/^Managed identity \(azure-arc\): /);
    expect(agent.requests).toHaveLength(1);
    expectNoSecret(printed(error), [content]);
    await client.dispose();
  });

  it("refuses a token for another identity than the user-assigned one asked for", async () => {
    const keyFile = await writeAt(join(directory, "echo.key"), "echo-check-key-0123456789abcdef");
    const agent = await arcAgent(keyFile, { client_id: ids.systemIdentityClientId });
    const client = createManagedIdentityClient({ env: arcEnv(agent), azureArcKeyDirectoryForTests: directory, clientId: GUID });
    await expect(client.acquireTokenForClient({ scopes: [API_SCOPE] })).rejects.toThrow(/did not confirm the user-assigned identity clientId=/);
    expect(agent.requests[0]?.url.searchParams.get("client_id")).toBe(GUID);
    await client.dispose();
  });
});

async function writeAt(path: string, content: string): Promise<string> {
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

describe("Service Fabric (loopback HTTPS server)", () => {
  let ca: TestCertificateAuthority;
  let tls: { key: string; cert: string };
  let thumbprint: string;
  beforeAll(async () => {
    ca = createTestCertificateAuthority();
    tls = { key: await readFile(ca.keyFile, "utf8"), cert: await readFile(ca.certFile, "utf8") };
    thumbprint = new X509Certificate(tls.cert).fingerprint.replace(/:/g, "");
  });
  afterAll(() => ca?.remove());

  const header = "service-fabric-identity-header-0123456789";

  it("sends the secret header with api-version 2019-07-01-preview to the endpoint with the pinned certificate", async () => {
    const fabric = await server((_request, response) => sendJson(response, 200, tokenAnswer()), tls);
    const env = { IDENTITY_ENDPOINT: `${fabric.url}/metadata/identity/oauth2/token`, IDENTITY_HEADER: header, IDENTITY_SERVER_THUMBPRINT: thumbprint.toLowerCase() };
    const client = createManagedIdentityClient({ env, clientId: GUID });
    expect(client.source).toBe("service-fabric");
    await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    const [seen] = fabric.requests;
    expect(seen?.headers["secret"]).toBe(header);
    expect(Object.fromEntries(seen?.url.searchParams ?? [])).toEqual({ "api-version": "2019-07-01-preview", resource: API, client_id: GUID });
    expectNoSecret(printed(client), [header]);
    await client.dispose();
  });

  it("closes the connection before sending anything when the certificate's thumbprint differs", async () => {
    const fabric = await server((_request, response) => sendJson(response, 200, tokenAnswer()), tls);
    const env = { IDENTITY_ENDPOINT: fabric.url, IDENTITY_HEADER: header, IDENTITY_SERVER_THUMBPRINT: "0".repeat(40) };
    const client = createManagedIdentityClient({ env });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as Error).message).toMatch(/^Managed identity \(service-fabric\): the endpoint's TLS certificate does not have the thumbprint/);
    expect(fabric.requests).toHaveLength(0);
    expectNoSecret(printed(error), [header]);
    await client.dispose();
  });
});

describe("configuration errors are ConfigurationError", () => {
  it("refuses an env that is not an object", () => {
    expect(() => createManagedIdentityClient({ env: "IDENTITY_ENDPOINT=x" as never })).toThrow(ConfigurationError);
  });
});

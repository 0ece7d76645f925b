// `daemon-auth serve` as a real process, asked by real clients nobody here wrote:
// @azure/identity's and Python azure-identity's ManagedIdentityCredential.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENVIRONMENT_VARIABLES } from "@daemon-auth/environment";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { startNode, startRedisServer, type NodeProcess, type NodeProcessResult, type RedisServer } from "@daemon-auth/test-utils";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { demoEnvironment } from "./helpers.js";

const CLI = fileURLToPath(new URL("../bin/daemon-auth.js", import.meta.url));
const NODE_CLIENT = fileURLToPath(new URL("fixtures/azure-identity-client.mjs", import.meta.url));
const PYTHON_CLIENT = fileURLToPath(new URL("fixtures/azure_identity_client.py", import.meta.url));
const SCOPE = ids.apiScope;
const HEADER = `serve-test-${randomBytes(16).toString("hex")}`;
const OTHER_TENANT = "44444444-4444-4444-8444-444444444444";

/**
 * A Python with Debian's azure-identity (`apt-get install python3-azure`): `python3` on
 * PATH may be another interpreter (pyenv), so the system one is tried too.
 */
const PYTHON = [process.env["DAEMON_AUTH_PYTHON"], "python3", "/usr/bin/python3"]
  .filter((candidate): candidate is string => candidate !== undefined && candidate !== "")
  .find((candidate) => spawnSync(candidate, ["-c", "import azure.identity"], { stdio: "ignore" }).status === 0);
const PYTHON_MISSING =
  "Python azure-identity is not installed: the Python client tests are SKIPPED. Install it with `apt-get install -y python3-azure` " +
  "(or point DAEMON_AUTH_PYTHON at a python3 that has azure.identity).";
if (PYTHON === undefined) {
  // CI installs it: a silent skip there would hide a broken setup.
  if (process.env["CI"]) throw new Error(PYTHON_MISSING);
  console.warn(`\n*** ${PYTHON_MISSING} ***\n`);
}

/** Variables no child may inherit from the developer's shell: credentials and managed identity settings. */
const CLEAN = Object.fromEntries(
  [...Object.values(ENVIRONMENT_VARIABLES), "DAEMON_AUTH_SERVE_HEADER", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET"].map(
    (name) => [name, undefined],
  ),
);

let emulator: Emulator;
let dir: string;
const sidecars: NodeProcess[] = [];

beforeAll(async () => {
  const config = demoEmulatorConfig();
  // Multi-tenant (daemon and API), so a second tenant makes a second token key.
  config.applications = config.applications.map((app) => ({ ...app, multiTenant: true }));
  [emulator, dir] = await Promise.all([startEmulator({ config }), mkdtemp(join(tmpdir(), "daemon-auth-serve-"))]);
  emulator.addTenant({ id: OTHER_TENANT, domains: ["fabrikam.example"] });
  emulator.grant({ tenant: OTHER_TENANT, clientId: ids.daemonClientId, resource: ids.apiIdentifierUri, roles: ["Orders.Read.All"] });
});

afterEach(async () => {
  for (const child of sidecars.splice(0)) child.kill("SIGKILL");
  emulator.faults.clear();
});

afterAll(async () => {
  await emulator?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Starts `daemon-auth serve` for the demo app and resolves once it printed its URL. */
async function serve(args: readonly string[] = [], env: Record<string, string | undefined> = {}): Promise<{ child: NodeProcess; url: string }> {
  const child = startNode(CLI, ["serve", "--allow-scope", SCOPE, ...args], {
    env: { ...CLEAN, ...demoEnvironment(emulator), DAEMON_AUTH_SERVE_HEADER: HEADER, ...env },
    timeoutMs: 120_000,
  });
  sidecars.push(child);
  await child.waitForOutput(/\n/, 60_000);
  const url = child.stdout().trim();
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return { child, url };
}

/** Stops a sidecar with SIGTERM and checks it stopped cleanly, logging JSON lines with no secret in them. */
async function stop(child: NodeProcess, alreadySignalled = false): Promise<NodeProcessResult> {
  // One SIGTERM only: a second one during shutdown ends the process at once, as usual.
  if (!alreadySignalled) child.kill("SIGTERM");
  const result = await child.exited;
  expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
  const records = result.stderr.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(records.at(-1)).toMatchObject({ msg: "sidecar stopped" });
  expect(result.stderr).not.toContain(HEADER);
  expect(result.stderr).not.toContain(ids.daemonClientSecret);
  expect(result.stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  return result;
}

/** The environment an Azure SDK reads to use the App Service managed identity protocol. */
function identityEnvironment(url: string, header = HEADER): Record<string, string | undefined> {
  return { ...CLEAN, IDENTITY_ENDPOINT: `${url}/msi/token`, IDENTITY_HEADER: header, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };
}

interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs @azure/identity's ManagedIdentityCredential in a child process. */
function nodeClient(url: string, header?: string): Promise<ClientRun> {
  return startNode(NODE_CLIENT, [SCOPE], { env: identityEnvironment(url, header), timeoutMs: 60_000 }).exited;
}

/** Runs Python azure-identity's ManagedIdentityCredential in a child process. */
function pythonClient(url: string, header?: string): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries({ ...process.env, ...identityEnvironment(url, header) })) if (value !== undefined) env[name] = value;
    const child = spawn(PYTHON as string, [PYTHON_CLIENT, SCOPE], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Verifies a token the way the API would: signature (emulator JWKS), issuer, audience, roles. */
async function expectValidApiToken(token: string, tenantId: string = ids.tenantId): Promise<void> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(emulator.jwksUri(tenantId))), {
    issuer: emulator.issuer(tenantId),
    audience: ids.apiIdentifierUri,
  });
  expect(payload).toMatchObject({ tid: tenantId, azp: ids.daemonClientId, roles: ["Orders.Read.All"] });
}

function tokenOf(run: ClientRun): { token: string; expires: number } {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const parsed = JSON.parse(run.stdout) as { token: string; expiresOnTimestamp?: number; expires_on?: number };
  return { token: parsed.token, expires: parsed.expiresOnTimestamp ?? (parsed.expires_on ?? 0) * 1000 };
}

// Each test starts real processes (Node and Python clients, several sidecars) on 2 shared cores.
describe("daemon-auth serve", { timeout: 120_000 }, () => {
  it("prints its URL on stdout, logs JSON lines, and on SIGTERM answers the request in flight before exiting 0", async () => {
    const slow = emulator.faults.add({ fault: { kind: "latency", ms: 1500 }, times: 1 });
    const { child, url } = await serve();
    const inFlight = fetch(`${url}/token?scope=${encodeURIComponent(SCOPE)}`, { headers: { "X-IDENTITY-HEADER": HEADER } });
    await expect.poll(() => slow.hits, { timeout: 30_000 }).toBe(1);
    child.kill("SIGTERM");
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { accessToken: string; tokenType: string };
    expect(body.tokenType).toBe("Bearer");
    await expectValidApiToken(body.accessToken);
    const result = await stop(child, true);
    expect(result.stdout).toBe(`${url}\n`);
    expect(result.stderr).toContain('"msg":"stopping","signal":"SIGTERM"');
  });

  it("gives @azure/identity's ManagedIdentityCredential a token that the API accepts", async () => {
    const { child, url } = await serve();
    const { token, expires } = tokenOf(await nodeClient(url));
    await expectValidApiToken(token);
    expect(expires).toBeGreaterThan(Date.now() + 30 * 60_000);
    await stop(child);
  });

  it.skipIf(PYTHON === undefined)("gives Python azure-identity's ManagedIdentityCredential a token that the API accepts", async () => {
    const { child, url } = await serve();
    const { token, expires } = tokenOf(await pythonClient(url));
    await expectValidApiToken(token);
    expect(expires).toBeGreaterThan(Date.now() + 30 * 60_000);
    await stop(child);
  });

  it("refuses both SDKs a token when their IDENTITY_HEADER is wrong, without a token request", async () => {
    const { child, url } = await serve();
    const before = emulator.tokenRequestCount();
    const runs = [nodeClient(url, "a-wrong-header-of-some-length"), ...(PYTHON === undefined ? [] : [pythonClient(url, "a-wrong-header-of-some-length")])];
    for (const run of await Promise.all(runs)) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/unauthorized|401/i);
    }
    expect(emulator.tokenRequestCount()).toBe(before);
    await stop(child);
  });

  it("8 client processes asking at once cause one token request", async () => {
    // A slow token endpoint keeps the first request open while the others arrive.
    emulator.faults.add({ fault: { kind: "latency", ms: 2000 }, times: 1 });
    const { child, url } = await serve();
    const before = emulator.tokenRequestCount({ clientId: ids.daemonClientId });
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, index) => (PYTHON !== undefined && index % 2 === 1 ? pythonClient(url) : nodeClient(url))),
    );
    const tokens = runs.map((run) => tokenOf(run).token);
    expect(new Set(tokens).size).toBe(1);
    await expectValidApiToken(tokens[0]!);
    expect(emulator.tokenRequestCount({ clientId: ids.daemonClientId })).toBe(before + 1);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('daemon_auth_sidecar_requests_total{endpoint="/msi/token",outcome="ok"} 8');
    expect(metrics).toContain('daemon_auth_sidecar_upstream_requests_total{status="200",aadsts="none"} 1');
    await stop(child);
  });

  describe("3 sidecars sharing one redis-server", () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it("cause one token request per key, and close their Redis connections on SIGTERM", async () => {
      emulator.faults.add({ fault: { kind: "latency", ms: 1000 }, times: 2 });
      const started = await Promise.all(
        [0, 1, 2].map(() => serve(["--allow-tenant", "fabrikam.example"], { REDIS_URL: redis.url })),
      );
      const before = { own: emulator.tokenRequestCount({ tenant: ids.tenantId }), other: emulator.tokenRequestCount({ tenant: OTHER_TENANT }) };
      const asks = started.flatMap(({ url }) =>
        ["", "&tenant=fabrikam.example"].flatMap((tenant) =>
          [0, 1].map(async () => {
            const answer = await fetch(`${url}/token?scope=${encodeURIComponent(SCOPE)}${tenant}`, { headers: { "X-IDENTITY-HEADER": HEADER } });
            expect(answer.status).toBe(200);
            return { tenant, token: ((await answer.json()) as { accessToken: string }).accessToken };
          }),
        ),
      );
      const answers = await Promise.all(asks);
      expect(new Set(answers.filter((a) => a.tenant === "").map((a) => a.token)).size).toBe(1);
      expect(new Set(answers.filter((a) => a.tenant !== "").map((a) => a.token)).size).toBe(1);
      await expectValidApiToken(answers.find((a) => a.tenant !== "")!.token, OTHER_TENANT);
      expect(emulator.tokenRequestCount({ tenant: ids.tenantId })).toBe(before.own + 1);
      expect(emulator.tokenRequestCount({ tenant: OTHER_TENANT })).toBe(before.other + 1);
      // The sidecars that did not ask upstream were served from the shared store.
      const sources = await Promise.all(started.map(async ({ url }) => (await fetch(`${url}/metrics`)).text()));
      expect(sources.filter((text) => text.includes('daemon_auth_sidecar_tokens_served_total{source="shared-cache"}')).length).toBeGreaterThanOrEqual(1);

      await Promise.all(started.map(({ child }) => stop(child)));
      const clients = String(await redis.command("CLIENT", "LIST")).trim().split("\n");
      expect(clients).toHaveLength(1); // only the connection that asked
    });
  });

  describe("refusals at start", () => {
    it("will not listen on a non-loopback address without --allow-remote, and says what that would expose", async () => {
      const child = startNode(CLI, ["serve", "--allow-scope", SCOPE, "--host", "0.0.0.0"], {
        env: { ...CLEAN, ...demoEnvironment(emulator), DAEMON_AUTH_SERVE_HEADER: HEADER },
        timeoutMs: 60_000,
      });
      const result = await child.exited;
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("--allow-remote");
      expect(result.stderr).toContain("anyone who reaches it with the header gets this daemon's tokens");
    });

    it("listens on 0.0.0.0 with --allow-remote", async () => {
      const child = startNode(CLI, ["serve", "--allow-scope", SCOPE, "--host", "0.0.0.0", "--allow-remote"], {
        env: { ...CLEAN, ...demoEnvironment(emulator), DAEMON_AUTH_SERVE_HEADER: HEADER },
        timeoutMs: 60_000,
      });
      sidecars.push(child);
      await child.waitForOutput(/\n/, 60_000);
      expect(child.stdout()).toMatch(/^http:\/\/0\.0\.0\.0:\d+\n$/);
      await stop(child);
    });

    it("needs at least one --allow-scope (usage error, exit 2)", async () => {
      const child = startNode(CLI, ["serve"], { env: { ...CLEAN, ...demoEnvironment(emulator), DAEMON_AUTH_SERVE_HEADER: HEADER }, timeoutMs: 60_000 });
      const result = await child.exited;
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("missing --allow-scope");
    });
  });

  describe("header secret", () => {
    it("is generated into a new 0600 file when neither DAEMON_AUTH_SERVE_HEADER nor --header-file is given, its path on stderr", async () => {
      const home = join(dir, "home");
      const { child, url } = await serve([], { DAEMON_AUTH_SERVE_HEADER: undefined, HOME: home });
      const path = join(home, ".daemon-auth", "serve-header");
      expect(child.stderr()).toContain(JSON.stringify(path));
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const secret = (await readFile(path, "utf8")).trim();
      expect(secret).toMatch(/^[\da-f]{64}$/);
      await expectValidApiToken(tokenOf(await nodeClient(url, secret)).token);
      const result = await stop(child);
      expect(result.stderr).not.toContain(secret);
    });

    it("is read from --header-file", async () => {
      const path = join(dir, "header-file");
      const first = await serve(["--header-file", path], { DAEMON_AUTH_SERVE_HEADER: undefined });
      await stop(first.child);
      const secret = (await readFile(path, "utf8")).trim();
      const second = await serve(["--header-file", path], { DAEMON_AUTH_SERVE_HEADER: undefined });
      expect(second.child.stderr()).toContain('"msg":"header secret read from file"');
      await expectValidApiToken(tokenOf(await nodeClient(second.url, secret)).token);
      await stop(second.child);
    });
  });
});

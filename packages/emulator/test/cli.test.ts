import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { demoEmulatorIdentities } from "../src/index.js";
import { CONTOSO, testConfig } from "./helpers.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const children: ChildProcess[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-cli-"));
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI from source (tsx), as bin/daemon-auth-emulator.js runs dist/bin-entry.js. */
function cli(args: string[]): { child: ChildProcess; output: () => string; errors: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", "src/bin-entry.ts", ...args], { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output: () => stdout, errors: () => stderr, exit };
}

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("daemon-auth-emulator CLI", () => {
  it("starts with the demo directory, prints the URL and ids, answers discovery and exits on SIGTERM", async () => {
    const run = cli(["--port", "0"]);
    await waitFor(() => run.output().includes("Press Ctrl-C"), "the banner");
    const url = /listening on (http:\/\/\S+)/.exec(run.output())?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ids = demoEmulatorIdentities;
    for (const text of [ids.tenantId, ids.tenantDomain, ids.daemonClientId, ids.apiScope]) expect(run.output()).toContain(text);
    expect(run.output()).not.toContain(ids.daemonClientSecret);
    for (const line of [`export AZURE_AUTHORITY_HOST=${url}`, `export AZURE_TENANT_ID=${ids.tenantId}`, `export AZURE_CLIENT_ID=${ids.daemonClientId}`]) {
      expect(run.output()).toContain(line);
    }

    const response = await fetch(`${url}/${ids.tenantDomain}/v2.0/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { issuer: string }).issuer).toBe(`${url}/${ids.tenantId}/v2.0`);
    await waitFor(() => run.output().includes("GET /contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration 200"), "the request log");

    run.child.kill("SIGTERM");
    expect(await run.exit).toBe(0);
    await expect(fetch(`${url}/common/discovery/instance`)).rejects.toThrow();
  });

  it("serves HTTPS with --config and prints the CA path for NODE_EXTRA_CA_CERTS", async () => {
    const configPath = join(dir, "emulator.json");
    await writeFile(configPath, JSON.stringify(testConfig()));
    const certificateDir = join(dir, "tls");
    const run = cli(["--port", "0", "--https", "--config", configPath, "--certificate-dir", certificateDir, "--quiet"]);
    await waitFor(() => run.output().includes("Press Ctrl-C"), "the banner");
    expect(run.output()).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
    expect(run.output()).toContain(`NODE_EXTRA_CA_CERTS=${join(certificateDir, "ca.pem")}`);
    expect(run.output()).toContain(CONTOSO);
    run.child.kill("SIGTERM");
    expect(await run.exit).toBe(0);
  });

  it("prints --help, and rejects bad flags with one line on stderr and exit 2", async () => {
    const help = cli(["--help"]);
    const bad: [string[], RegExp][] = [
      [["--bogus"], /Unknown option '--bogus'/],
      [["--port", "abc"], /--port expects a whole number/],
      [["--port", "70000"], /--port expects 0 to 65535/],
      [["--token-lifetime", "0"], /--token-lifetime expects a whole number above 0/],
    ];
    const runs = bad.map(([args]) => cli(args));
    expect(await help.exit).toBe(0);
    expect(help.output()).toContain("Usage: daemon-auth-emulator");
    expect(help.output()).toContain("--https");
    const codes = await Promise.all(runs.map((run) => run.exit));
    runs.forEach((run, index) => {
      expect(codes[index]).toBe(2);
      expect(run.errors()).toMatch(bad[index]![1]);
      expect(run.errors().trim().split("\n")).toHaveLength(1);
    });
  });

  it("exits 1 with the field and the fix for an invalid config", async () => {
    const configPath = join(dir, "bad.json");
    await writeFile(configPath, JSON.stringify({ tenants: [{ id: "contoso" }], applications: [] }));
    const run = cli(["--config", configPath, "--port", "0"]);
    expect(await run.exit).toBe(1);
    expect(run.errors()).toContain("tenants[0].id");
    expect(run.errors()).toContain("is not a GUID");
  });
});

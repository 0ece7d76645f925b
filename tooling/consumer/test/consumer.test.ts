// The packages as a user gets them: every public package packed, the tarballs installed with
// npm into a project outside the repository, and used there from Node (ESM and CommonJS),
// TypeScript, the installed bins, Bun, Deno and workerd against the emulator's own tarball.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { basename, delimiter, dirname, join, relative, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "@daemon-auth/test-utils";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");
const fixtures = resolve(here, "../fixtures");

// The emulator's built-in demo directory (its README): public values only it accepts.
const demo = {
  tenant: "contoso.onmicrosoft.com",
  clientId: "0d2f4b6c-8e1a-4c3e-9b5d-7f9a1c3e5b7d",
  clientSecret: "demo-secret-for-the-daemon-auth-emulator-only",
  scope: "api://daemon-auth-demo/.default",
};

const runtimesDir = process.env.CONSUMER_RUNTIMES_DIR ?? join(homedir(), ".cache", "daemon-auth", "consumer-runtimes");
// Further Node binaries to run the Node scripts with, e.g. Node 24 (.ci/run sets it).
const extraNodes = (process.env.CONSUMER_EXTRA_NODE ?? "").split(delimiter).filter((path) => path !== "");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; a stuck one is killed so the test fails instead of hanging. */
async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Run> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? app,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const [code] = (await once(child, "close")) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function runOk(command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): Promise<Run> {
  const result = await run(command, args, options);
  assert.equal(result.code, 0, `${basename(command)} ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Starts a long-running child in its own process group, resolving once `ready` matches its stdout. */
async function startServer(
  command: string,
  args: readonly string[],
  ready: RegExp | undefined,
  options: { cwd?: string } = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray | null }> {
  const child = spawn(command, args, { cwd: options.cwd ?? app, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  servers.push(child);
  let output = "";
  if (ready === undefined) return { child, match: null };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${basename(command)} did not start:\n${output}`)), 60_000);
    const onData = (chunk: string): void => {
      output += chunk;
      const match = output.match(ready);
      if (match !== null) {
        clearTimeout(timer);
        resolvePromise({ child, match });
      }
    };
    child.stdout?.setEncoding("utf8").on("data", onData);
    child.stderr?.setEncoding("utf8").on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${basename(command)} exited ${code} before it was ready:\n${output}`));
    });
  });
}

let work = "";
let app = "";
let tarballs: string[] = [];
let authority = "";
let emulatorUrl = "";
const servers: ChildProcess[] = [];

const scriptEnv = (): Record<string, string> => ({
  CONSUMER_AUTHORITY: authority,
  CONSUMER_CLIENT_ID: demo.clientId,
  CONSUMER_CLIENT_SECRET: demo.clientSecret,
  CONSUMER_SCOPE: demo.scope,
});

interface Sources {
  first: string;
  second: string;
  sameToken: boolean;
  tokenParts: number;
}

function parseSources(result: Run): Sources {
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Sources;
}

function assertNetworkThenCache(sources: Sources, first = "network"): void {
  assert.deepEqual(sources, { first, second: "cache", sameToken: true, tokenParts: 3 });
}

async function publicPackageDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const name of (await readdir(join(repoRoot, "packages"))).sort()) {
    const manifestPath = join(repoRoot, "packages", name, "package.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as { private?: boolean };
    if (manifest.private !== true) dirs.push(join(repoRoot, "packages", name));
  }
  return dirs;
}

function bin(name: string): string {
  return join(runtimesDir, "node_modules", ".bin", name);
}

/** Bun, Deno, workerd and esbuild, each from the npm registry (the packages carry the binaries). */
async function ensureRuntimes(): Promise<void> {
  const wanted = await readFile(resolve(here, "../runtimes.json"), "utf8");
  const manifest = join(runtimesDir, "package.json");
  const current = existsSync(manifest) ? await readFile(manifest, "utf8") : "";
  if (current === wanted && ["bun", "deno", "workerd", "esbuild"].every((name) => existsSync(bin(name)))) return;
  await mkdir(runtimesDir, { recursive: true });
  await writeFile(manifest, wanted);
  await runOk("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: runtimesDir, timeoutMs: 600_000 });
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "daemon-auth-consumer-"));
  assert.ok(relative(repoRoot, work).startsWith(".."), "the consumer project must live outside the repository");
  app = join(work, "app");
  const packs = join(work, "tarballs");
  await mkdir(app, { recursive: true });
  await mkdir(packs, { recursive: true });

  const runtimes = ensureRuntimes();
  for (const dir of await publicPackageDirs()) {
    await runOk("pnpm", ["pack", "--pack-destination", packs], { cwd: dir });
  }
  tarballs = (await readdir(packs)).filter((file) => file.endsWith(".tgz")).map((file) => join(packs, file));

  await writeFile(
    join(app, "package.json"),
    `${JSON.stringify({ name: "daemon-auth-consumer", private: true, type: "module" }, null, 2)}\n`,
  );
  for (const file of await readdir(fixtures)) await copyFile(join(fixtures, file), join(app, file));
  await runOk(
    "npm",
    ["install", "--no-audit", "--no-fund", ...tarballs, "typescript@5.9.3", "@types/node@^20.19.0"],
    { cwd: app, timeoutMs: 600_000 },
  );
  await runtimes;

  const emulator = await startServer("npx", ["--no-install", "daemon-auth-emulator", "--port", "0", "--quiet"], /listening on (http:\/\/\S+)/);
  emulatorUrl = emulator.match?.[1] ?? "";
  authority = `${emulatorUrl}/${demo.tenant}`;
});

after(async () => {
  for (const child of servers) {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  if (work !== "" && process.env.CONSUMER_KEEP !== "1") await rm(work, { recursive: true, force: true });
});

void describe("the tarballs", () => {
  void it("hold dist with types and source maps, README and LICENSE, and no tests, fixtures, keys or certificates", async () => {
    assert.equal(tarballs.length, (await publicPackageDirs()).length);
    for (const tarball of tarballs) {
      const files = (await runOk("tar", ["-tzf", tarball])).stdout.trim().split("\n");
      for (const needed of ["package/package.json", "package/README.md", "package/LICENSE", "package/dist/index.js", "package/dist/index.d.ts", "package/dist/index.js.map", "package/dist/index.d.ts.map"]) {
        assert.ok(files.includes(needed), `${basename(tarball)} lacks ${needed}`);
      }
      const unwanted = files.filter(
        (file) =>
          /(^|\/)(test|tests|__tests__|fixtures|coverage)\//.test(file) ||
          /\.(test|spec)\.[cm]?[jt]s$/.test(file) ||
          /\.(pem|key|crt|cer|pfx|p12|tsbuildinfo)$/.test(file),
      );
      assert.deepEqual(unwanted, [], `${basename(tarball)} holds files a user must not get`);
    }
  });

  void it("have workspace: and catalog: resolved to real ranges, and README links that work on the registry", async () => {
    for (const tarball of tarballs) {
      const manifest = (await runOk("tar", ["-xzOf", tarball, "package/package.json"])).stdout;
      assert.doesNotMatch(manifest, /"(workspace|catalog):/, `${basename(tarball)}: unresolved protocol`);
      const readme = (await runOk("tar", ["-xzOf", tarball, "package/README.md"])).stdout;
      const relativeLinks = [...readme.matchAll(/\]\(((?!https?:|#|mailto:)[^)]+)\)/g)].map((match) => match[1]);
      assert.deepEqual(relativeLinks, [], `${basename(tarball)}: README links that break on the registry's page`);
    }
  });

  void it("carry the root LICENSE and the metadata a registry page shows", async () => {
    const license = await readFile(join(repoRoot, "LICENSE"), "utf8");
    for (const tarball of tarballs) {
      assert.equal((await runOk("tar", ["-xzOf", tarball, "package/LICENSE"])).stdout, license, `${basename(tarball)}: LICENSE`);
      const manifest = JSON.parse((await runOk("tar", ["-xzOf", tarball, "package/package.json"])).stdout) as Record<string, unknown>;
      const name = String(manifest.name);
      assert.equal(manifest.license, "MIT", name);
      assert.match(String((manifest.repository as { directory?: string } | undefined)?.directory), /^packages\/[a-z-]+$/, `${name}: repository.directory`);
      assert.match(String(manifest.homepage), /^https:\/\//, `${name}: homepage`);
      assert.match(String((manifest.bugs as { url?: string } | undefined)?.url), /^https:\/\//, `${name}: bugs`);
      assert.ok(Array.isArray(manifest.keywords) && manifest.keywords.length > 0, `${name}: keywords`);
      assert.ok((manifest.engines as { node?: string } | undefined)?.node, `${name}: engines.node`);
      assert.deepEqual(manifest.publishConfig, { access: "public" }, `${name}: publishConfig`);
      assert.equal((manifest.exports as Record<string, unknown>)["./package.json"], "./package.json", `${name}: exports ./package.json`);
    }
  });

  void it("install into one tree with exactly one @daemon-auth/core", async () => {
    const found = JSON.parse((await runOk("npm", ["query", "#@daemon-auth/core"])).stdout) as { location: string }[];
    assert.deepEqual([...new Set(found.map((node) => node.location))], ["node_modules/@daemon-auth/core"]);
    // npm ls fails on a missing or unmet peer dependency.
    await runOk("npm", ["ls", "--all"]);
  });
});

const nodes = [
  { label: `Node ${process.version}`, path: process.execPath },
  ...extraNodes.map((path) => ({ label: `Node at ${path}`, path })),
];

for (const node of nodes) {
  void describe(node.label, () => {
    void it("an ESM script gets a token from the emulator, then from the cache (core + credential-secret + cache-memory)", async () => {
      assertNetworkThenCache(parseSources(await runOk(node.path, ["token.mjs"], { env: scriptEnv() })));
    });

    void it("a CommonJS script does the same through require()", async () => {
      assertNetworkThenCache(parseSources(await runOk(node.path, ["token.cjs"], { env: scriptEnv() })));
    });

    void it("a managed identity script gets the host identity's token from the emulator's IMDS endpoint, then from the cache", async () => {
      const env = { CONSUMER_CLIENT: "managed-identity", CONSUMER_SCOPE: demo.scope, AZURE_POD_IDENTITY_AUTHORITY_HOST: emulatorUrl };
      assertNetworkThenCache(parseSources(await runOk(node.path, ["token.mjs"], { env })));
    });

    void it("with cache-file, a second process gets the token from the file store", async () => {
      const directory = await mkdtemp(join(work, "file-cache-"));
      const env = { ...scriptEnv(), CONSUMER_CACHE: "file", CONSUMER_CACHE_DIR: directory };
      assertNetworkThenCache(parseSources(await runOk(node.path, ["token.mjs"], { env })));
      assertNetworkThenCache(parseSources(await runOk(node.path, ["token.cjs"], { env })), "shared-cache");
    });
  });
}
if (extraNodes.length === 0) {
  void it("Node 24", { skip: "set CONSUMER_EXTRA_NODE to a Node 24 binary (.ci/run does)" }, () => {});
}

void describe("TypeScript", () => {
  for (const config of ["tsconfig.nodenext.json", "tsconfig.bundler.json"]) {
    void it(`a strict project type-checks with ${config} (a user-written TokenCacheStore included)`, async () => {
      await runOk(process.execPath, [join(app, "node_modules", "typescript", "bin", "tsc"), "-p", config]);
    });
  }
});

void describe("the installed bins", () => {
  void it("npx daemon-auth token prints a token from the emulator", async () => {
    const result = await runOk("npx", ["--no-install", "daemon-auth", "token", "--scope", demo.scope], {
      env: {
        AZURE_AUTHORITY_HOST: emulatorUrl,
        AZURE_TENANT_ID: demo.tenant,
        AZURE_CLIENT_ID: demo.clientId,
        AZURE_CLIENT_SECRET: demo.clientSecret,
      },
    });
    assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, "stdout is the token and a newline");
  });

  void it("npx daemon-auth-emulator serves tokens (the emulator every test here uses) and prints its help", async () => {
    const response = await fetch(`${authority}/v2.0/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    const help = await runOk("npx", ["--no-install", "daemon-auth-emulator", "--help"]);
    assert.match(help.stdout, /^Usage: daemon-auth-emulator/);
  });
});

void describe("other runtimes", () => {
  void it("Bun runs the ESM script: a token from the emulator, then from the cache", async () => {
    assertNetworkThenCache(parseSources(await runOk(bin("bun"), ["token.mjs"], { env: scriptEnv() })));
  });

  void it("Deno runs the ESM script: a token from the emulator, then from the cache", async () => {
    const result = await runOk(bin("deno"), ["run", "--allow-env", "--allow-net", "--allow-read", "token.mjs"], {
      env: { ...scriptEnv(), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    });
    assertNetworkThenCache(parseSources(result));
  });

  void it("workerd serves an esbuild bundle: a token from the emulator, then from the isolate's cache", async () => {
    await runOk(bin("esbuild"), ["worker.mjs", "--bundle", "--format=esm", "--platform=neutral", "--outfile=worker.js"]);
    const port = await freePort();
    const template = await readFile(join(app, "workerd.capnp.template"), "utf8");
    const capnp = template
      .replace("@PORT@", String(port))
      .replace("@AUTHORITY@", authority)
      .replace("@CLIENT_ID@", demo.clientId)
      .replace("@CLIENT_SECRET@", demo.clientSecret)
      .replace("@SCOPE@", demo.scope);
    await writeFile(join(app, "workerd.capnp"), capnp);
    await startServer(bin("workerd"), ["serve", "workerd.capnp", "--verbose"], undefined);
    let response: Response | undefined;
    for (let attempt = 0; attempt < 100 && response === undefined; attempt++) {
      response = await fetch(`http://127.0.0.1:${port}/`).catch(async () => {
        await new Promise((wait) => setTimeout(wait, 100));
        return undefined;
      });
    }
    assert.ok(response, "workerd did not answer");
    const body = (await response.json()) as Sources & { error?: string };
    assert.equal(body.error, undefined);
    assertNetworkThenCache(body);
    const again = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Sources;
    assertNetworkThenCache(again, "cache");
  });
});

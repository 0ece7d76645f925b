/**
 * `pnpm demo`: one token sidecar, two languages, offline. The emulator stands in for
 * Entra ID; `daemon-auth serve` runs as its own process with the app's credential; a
 * Python job and a Node job — each using its Azure SDK's unmodified
 * ManagedIdentityCredential — run twice, at the same time, and get their tokens from the
 * sidecar. Neither job holds a credential, and the emulator sees one token request.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator } from "@daemon-auth/emulator";

const CLI = fileURLToPath(new URL("../bin/daemon-auth.js", import.meta.resolve("@daemon-auth/cli")));
const NODE_WORKER = fileURLToPath(new URL("node-worker.js", import.meta.url));
const PYTHON_WORKER = fileURLToPath(new URL("../src/worker.py", import.meta.url));
/** `python3` may be another interpreter (pyenv) than the one Debian's python3-azure installed into. */
const PYTHON = [process.env["PYTHON"], "python3", "/usr/bin/python3"]
  .filter((candidate): candidate is string => candidate !== undefined && candidate !== "")
  .find((candidate) => spawnSync(candidate, ["-c", "import azure.identity"], { stdio: "ignore" }).status === 0);

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], env: Record<string, string | undefined>): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const emulator = await startEmulator({ config: demoEmulatorConfig() });
const header = randomBytes(32).toString("hex");
// The sidecar holds the credential; nothing else does.
const sidecar = spawn(process.execPath, [CLI, "serve", "--allow-scope", ids.apiScope], {
  env: {
    ...process.env,
    AZURE_AUTHORITY_HOST: emulator.url,
    AZURE_TENANT_ID: ids.tenantDomain,
    AZURE_CLIENT_ID: ids.daemonClientId,
    AZURE_CLIENT_SECRET: ids.daemonClientSecret,
    DAEMON_AUTH_SERVE_HEADER: header,
    REDIS_URL: undefined,
  },
  stdio: ["ignore", "pipe", "pipe"],
});
let sidecarLog = "";
sidecar.stderr.setEncoding("utf8").on("data", (chunk: string) => (sidecarLog += chunk));

let exitCode = 0;
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    sidecar.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.trim());
    });
    sidecar.once("exit", () => reject(new Error(`daemon-auth serve exited: ${sidecarLog.slice(-500)}`)));
  });
  console.log("daemon-auth polyglot sidecar demo: offline, against the local identity platform emulator");
  console.log(`   emulator ${emulator.url}   sidecar ${url} (daemon-auth serve, the only holder of the client secret)`);
  console.log(`   jobs get IDENTITY_ENDPOINT=${url}/msi/token and IDENTITY_HEADER=<the sidecar's header>\n`);

  // What App Service would put in the jobs' environment; no AZURE_* credential at all.
  const jobEnvironment = {
    IDENTITY_ENDPOINT: `${url}/msi/token`,
    IDENTITY_HEADER: header,
    AZURE_CLIENT_SECRET: undefined,
    AZURE_CLIENT_ID: undefined,
    AZURE_TENANT_ID: undefined,
    NO_PROXY: "127.0.0.1,localhost",
  };
  const jobs: Promise<Finished>[] = [];
  for (let round = 0; round < 2; round++) {
    jobs.push(run(process.execPath, [NODE_WORKER, ids.apiScope], jobEnvironment));
    if (PYTHON !== undefined) jobs.push(run(PYTHON, [PYTHON_WORKER, ids.apiScope], jobEnvironment));
  }
  const finished = await Promise.all(jobs);
  for (const [index, job] of finished.entries()) {
    if (job.code !== 0) {
      console.error(`job ${index + 1} failed: ${job.stderr.trim().split("\n").at(-1) ?? ""}`);
      exitCode = 1;
      continue;
    }
    const seen = JSON.parse(job.stdout) as { worker: string; aud: string; roles: string[]; expires_on: number };
    console.log(`${index + 1}. ${seen.worker.padEnd(22)} token for ${seen.aud}, roles [${seen.roles.join(", ")}], expires ${new Date(seen.expires_on * 1000).toISOString()}`);
  }
  if (PYTHON === undefined) {
    console.log("   (the Python job was skipped: install Python's azure-identity, e.g. `apt-get install python3-azure`)");
  }
  const requests = emulator.tokenRequestCount();
  console.log(`\n${finished.length} jobs in ${PYTHON === undefined ? "one language" : "two languages"}, ${requests} token request to the emulator.`);
  if (exitCode === 0 && requests === 1) {
    console.log("Done: every job got the app's token from the one sidecar; none of them held a credential.");
  } else {
    console.error("The demo did not go as expected; see the lines above.");
    exitCode = 1;
  }
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  sidecar.kill("SIGTERM");
  await new Promise((resolve) => (sidecar.exitCode === null ? sidecar.once("exit", resolve) : resolve(undefined)));
  await emulator.close();
}
process.exitCode = exitCode;

import { fileURLToPath } from "node:url";
import { createSelfSignedCertificate, startEmulator } from "@daemon-auth/emulator";
import { spawnNode, startNode, typescriptExecArgv } from "@daemon-auth/test-utils";
import { describe, expect, it } from "vitest";
import { demoEnvironment, keyVaultDemoIdentities as ids, keyVaultEmulatorConfig, vaultSecretOf } from "../src/demo-directory.js";
import { main, type Output } from "../src/daemon.js";
import { DEMO_RUNS, ROTATE_AFTER_RUN, runRotationDemo } from "../src/rotation-demo.js";

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

function recordingOutput(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (line) => out.push(line), error: (line) => err.push(line) };
}

describe("keyvault-daemon", () => {
  it("exits 2 naming every missing variable, before any request", async () => {
    const output = recordingOutput();
    expect(await main({}, output)).toBe(2);
    const message = output.err.join("\n");
    for (const name of ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "DAEMON_CLIENT_ID", "KEY_VAULT_URL", "KEY_VAULT_CERTIFICATE_NAME", "API_SCOPE", "API_URL"]) {
      expect(message).toContain(name);
    }
    expect(output.out).toEqual([]);

    const insecure = recordingOutput();
    const env = {
      AZURE_TENANT_ID: ids.tenantId,
      AZURE_CLIENT_ID: ids.vaultReaderClientId,
      AZURE_CLIENT_SECRET: ids.vaultReaderSecret,
      DAEMON_CLIENT_ID: ids.daemonClientId,
      KEY_VAULT_URL: "http://my-vault.vault.azure.net",
      KEY_VAULT_CERTIFICATE_NAME: ids.certificateName,
      API_SCOPE: ids.apiScope,
      API_URL: "https://graph.microsoft.com/v1.0/users",
    };
    expect(await main(env, insecure)).toBe(2);
    expect(insecure.err.join("\n")).toMatch(/KEY_VAULT_URL as the vault's https URL/);
    expect(insecure.err.join("\n")).not.toContain(ids.vaultReaderSecret);

    const delegatedScope = recordingOutput();
    expect(await main({ ...env, KEY_VAULT_URL: "https://my-vault.vault.azure.net", API_SCOPE: "https://graph.microsoft.com/User.Read.All" }, delegatedScope)).toBe(2);
    expect(delegatedScope.err.join("\n")).toContain(`API_SCOPE as the API's <resource>/.default`);
  });

  it.concurrent("keeps getting tokens through a rotation of its Key Vault certificate while it runs", async () => {
    const result = await runRotationDemo({
      script: fileURLToPath(new URL("../src/start.ts", import.meta.url)),
      execArgv: typescriptExecArgv(),
      onLine: () => undefined,
    });
    const output = result.lines.join("\n");
    expect({ exitCode: result.exitCode, output }).toMatchObject({ exitCode: 0 });

    // Every call needed a new token. The first request after the rotation was refused once
    // (the old certificate is no longer on the app); the client reloaded it from the vault
    // and the retry succeeded. A slow test machine may move that to a later call, never
    // before the rotation.
    expect(result.lines.filter((line) => line.startsWith("run "))).toEqual(
      Array.from({ length: DEMO_RUNS }, (_, index) => `run ${index + 1}: 200 OK, 5 items (token from network)`),
    );
    expect(result.daemonTokenRequests).toHaveLength(DEMO_RUNS + 1);
    const rejected = result.daemonTokenRequests.findIndex(({ status }) => status !== 200);
    expect(rejected).toBeGreaterThanOrEqual(ROTATE_AFTER_RUN);
    expect(result.daemonTokenRequests[rejected]).toEqual({ status: 401, errorCode: 700027 });
    expect(result.daemonTokenRequests.filter((_, index) => index !== rejected).every(({ status }) => status === 200)).toBe(true);
    // One vault read at start and one after the rejection, each with a token of the bootstrap identity.
    expect(result.vaultReaderTokenRequests).toBe(2);

    // Tokens before the rotation were signed with the first certificate, after it with the second.
    expect(result.before.thumbprintSha1).not.toBe(result.after.thumbprintSha1);
    const signing = result.lines.filter((line) => line.includes("signing with"));
    expect(signing).toHaveLength(2);
    expect(signing[0]).toContain(`(version ${result.before.vaultVersion})`);
    expect(signing[1]).toContain(`(version ${result.after.vaultVersion})`);
    expect(result.lines.indexOf(signing[1]!)).toBeGreaterThan(
      result.lines.indexOf("   daemon-auth: the server rejected the credential; reloading it and trying once more (AADSTS700027)"),
    );
    expect(result.lines).toContain("   daemon-auth: a rotated credential was accepted");

    expect(output).not.toContain(ids.vaultReaderSecret);
    expect(output).not.toContain("PRIVATE KEY");
    expect(output).not.toMatch(JWT);
  }, 60_000);

  it.concurrent("pnpm demo tells the story and exits 0", async () => {
    const demo = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
    const { code, stdout, stderr } = await spawnNode(demo, [], { timeoutMs: 60_000 });
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toMatch(/^daemon token requests: (200, )+401 AADSTS700027, 200(, 200)*; vault reader token requests: 2$/m);
    expect(stdout).toMatch(/^Done: /m);
    expect(stdout).not.toContain(ids.vaultReaderSecret);
    expect(stdout).not.toContain("PRIVATE KEY");
    expect(stdout).not.toMatch(JWT);
  }, 60_000);

  it.concurrent("pnpm start runs until SIGTERM, then stops cleanly with exit code 0", async () => {
    const certificate = await createSelfSignedCertificate({ subject: "orders daemon start" });
    const emulator = await startEmulator({ https: true, config: keyVaultEmulatorConfig(certificate) });
    try {
      const { value, contentType } = vaultSecretOf(certificate);
      emulator.setVaultSecret(ids.certificateName, value, { contentType });
      const daemon = startNode(fileURLToPath(new URL("../dist/start.js", import.meta.url)), [], {
        timeoutMs: 30_000,
        // Only what the test sets: no AZURE_* or DAEMON_* variable of the shell running it.
        env: { ...Object.fromEntries(Object.keys(process.env).filter((name) => /^(AZURE_|DAEMON_)/.test(name)).map((name) => [name, undefined])), ...demoEnvironment(emulator) },
      });
      await daemon.waitForOutput(/^run 1: 200 OK, 5 items \(token from network\)$/m);
      await daemon.waitForOutput("signing with the certificate");
      daemon.kill("SIGTERM");
      const { code, stdout, stderr } = await daemon.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toContain("until stopped");
      expect(stdout).not.toContain("run 2:");
      expect(emulator.tokenRequestCount({ clientId: ids.daemonClientId })).toBe(1);
    } finally {
      await emulator.close();
    }
  }, 60_000);
});

import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createSelfSignedCertificate,
  demoEmulatorConfig,
  demoEmulatorIdentities as ids,
  startEmulator,
  type Emulator,
  type GeneratedCertificate,
} from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimsOf, daemonAuth, demoEnvironment } from "./helpers.js";

let emulator: Emulator;
let dir: string;
let certificate: GeneratedCertificate;
let certificatePath: string;

beforeAll(async () => {
  [emulator, dir, certificate] = await Promise.all([
    startEmulator({ config: demoEmulatorConfig() }),
    mkdtemp(join(tmpdir(), "daemon-auth-cli-")),
    createSelfSignedCertificate({ subject: "cli-test-daemon" }),
  ]);
  emulator.addCertificate(ids.daemonClientId, { pem: certificate.certificatePem });
  certificatePath = join(dir, "daemon.pem");
  await writeFile(certificatePath, certificate.certificatePem + certificate.privateKeyPem, { mode: 0o600 });
  await chmod(certificatePath, 0o600);
});

afterAll(async () => {
  await emulator?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const SCOPE = ids.apiScope;

/** stdout of `token` is the token and a newline, nothing else. */
function singleToken(stdout: string): string {
  expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return stdout.trim();
}

describe("daemon-auth token", () => {
  it("prints only the token, with the secret from AZURE_CLIENT_SECRET, and warns about nothing", async () => {
    const before = emulator.tokenRequestCount({ clientId: ids.daemonClientId });
    const run = await daemonAuth(["token", "--scope", SCOPE], { env: demoEnvironment(emulator) });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const claims = claimsOf(singleToken(run.stdout));
    expect(claims).toMatchObject({ aud: ids.apiIdentifierUri, tid: ids.tenantId, azp: ids.daemonClientId, roles: ["Orders.Read.All"], azpacr: "1" });
    expect(emulator.tokenRequestCount({ clientId: ids.daemonClientId })).toBe(before + 1);
  });

  it("takes every value from flags, over the variables, and warns that a secret flag is visible in ps", async () => {
    const run = await daemonAuth(
      ["token", "--scope", SCOPE, "--tenant", ids.tenantId, "--client-id", ids.daemonClientId, "--client-secret", ids.daemonClientSecret, "--authority", emulator.url],
      // Variables that would fail: each flag must win over its variable.
      { env: { AZURE_TENANT_ID: "fabrikam.onmicrosoft.com", AZURE_CLIENT_ID: "wrong", AZURE_CLIENT_SECRET: "wrong", AZURE_AUTHORITY_HOST: "http://127.0.0.1:1" } },
    );
    expect(run.code).toBe(0);
    expect(claimsOf(singleToken(run.stdout))).toMatchObject({ tid: ids.tenantId, azp: ids.daemonClientId });
    expect(run.stderr).toContain("a secret given as --client-secret is visible to other users in `ps`");
    expect(run.stderr).toContain("set AZURE_CLIENT_SECRET or pass `--client-secret -`");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reads the secret from stdin with --client-secret -, without a warning", async () => {
    const { AZURE_CLIENT_SECRET: _secret, ...withoutSecret } = demoEnvironment(emulator);
    const run = await daemonAuth(["token", "--scope", SCOPE, "--client-secret", "-"], { env: withoutSecret, input: `${ids.daemonClientSecret}\n` });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(claimsOf(singleToken(run.stdout)).azp).toBe(ids.daemonClientId);
  });

  it("signs a client assertion with --certificate, replacing the secret the variables select", async () => {
    const run = await daemonAuth(["token", "--scope", SCOPE, "--certificate", certificatePath], { env: demoEnvironment(emulator) });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(claimsOf(singleToken(run.stdout)).azpacr).toBe("2");
    expect(emulator.requests.at(-1)).toMatchObject({ clientId: ids.daemonClientId, clientAuth: "assertion", status: 200 });
    expect(run.stdout).not.toContain("PRIVATE KEY");
  });

  it("sends a federated token file with --assertion-file (workload identity)", async () => {
    const subject = "system:serviceaccount:jobs:cli-test";
    emulator.addFederatedCredential(ids.daemonClientId, { issuer: emulator.externalIssuer, subject });
    const tokenFile = join(dir, "federated-token");
    await writeFile(tokenFile, await emulator.issueExternalToken({ subject }), { mode: 0o600 });
    const { AZURE_CLIENT_SECRET: _secret, ...withoutSecret } = demoEnvironment(emulator);
    const run = await daemonAuth(["token", "--scope", SCOPE, "--assertion-file", tokenFile], { env: withoutSecret });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(claimsOf(singleToken(run.stdout)).azp).toBe(ids.daemonClientId);
    expect(emulator.requests.at(-1)).toMatchObject({ clientId: ids.daemonClientId, clientAuth: "assertion", status: 200 });
  });

  it("prints accessToken, expiresOn, tokenType and source with --json", async () => {
    const run = await daemonAuth(["token", "--scope", SCOPE, "--json"], { env: demoEnvironment(emulator) });
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as Record<string, string>;
    expect(Object.keys(printed)).toEqual(["accessToken", "expiresOn", "tokenType", "source", "authority"]);
    expect(printed).toMatchObject({ tokenType: "Bearer", source: "network" });
    expect(printed["authority"]).toEqual({ host: emulator.url, tenant: ids.tenantDomain, form: "environment" });
    expect(claimsOf(printed["accessToken"]!).aud).toBe(ids.apiIdentifierUri);
    expect(new Date(printed["expiresOn"]!).toISOString()).toBe(printed["expiresOn"]);
    expect(Date.parse(printed["expiresOn"]!)).toBeGreaterThan(Date.now() + 30 * 60_000);
  });

  it("takes --authority as MSAL does (host and tenant) or as a bare host, and says which with --json", async () => {
    const { AZURE_TENANT_ID: _tenant, AZURE_AUTHORITY_HOST: _host, ...withoutTenant } = demoEnvironment(emulator);
    emulator.resetRequests();
    const msalForm = await daemonAuth(["token", "--scope", SCOPE, "--json", "--authority", `${emulator.url}/${ids.tenantId}`], { env: withoutTenant });
    expect(msalForm.stderr).toBe("");
    expect(msalForm.code).toBe(0);
    const printed = JSON.parse(msalForm.stdout) as { accessToken: string; authority: unknown };
    expect(printed.authority).toEqual({ host: emulator.url, tenant: ids.tenantId, form: "host-and-tenant" });
    expect(claimsOf(printed.accessToken)).toMatchObject({ tid: ids.tenantId, azp: ids.daemonClientId });
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => [r.tenant, r.status])).toEqual([[ids.tenantId, 200]]);

    const hostForm = await daemonAuth(["token", "--scope", SCOPE, "--json", "--authority", `${emulator.url}/`, "--tenant", ids.tenantDomain], { env: withoutTenant });
    expect(hostForm.code).toBe(0);
    expect((JSON.parse(hostForm.stdout) as { authority: unknown }).authority).toEqual({ host: emulator.url, tenant: ids.tenantDomain, form: "host" });
  });

  it("fails with exit 1 and the server's fix on one line for a wrong secret", async () => {
    const run = await daemonAuth(["token", "--scope", SCOPE], { env: { ...demoEnvironment(emulator), AZURE_CLIENT_SECRET: "not-the-secret" } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^daemon-auth token: The token endpoint refused the request: invalid_client \(AADSTS7000215\)\. The client secret is wrong: /);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).not.toContain("not-the-secret");
  });

  it("refuses a scope that is not <resource>/.default, naming the right one, before any request", async () => {
    const before = emulator.tokenRequestCount();
    const run = await daemonAuth(["token", "--scope", ids.apiIdentifierUri], { env: demoEnvironment(emulator) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`is not '<resource>/.default'`);
    expect(run.stderr).toContain(`'${SCOPE}'`);
    expect(emulator.tokenRequestCount()).toBe(before);
  });
});

describe("daemon-auth decode", () => {
  let token: string;
  beforeAll(async () => {
    const run = await daemonAuth(["token", "--scope", SCOPE], { env: demoEnvironment(emulator) });
    token = singleToken(run.stdout);
  });

  it("shows header, claims with dates, roles, app and tenant, says the signature is not verified, and never echoes the token", async () => {
    const claims = claimsOf(token);
    const run = await daemonAuth(["decode", token]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe("Signature NOT verified: this shows what the token says, not that it is genuine or meant for you.");
    expect(run.stdout).toMatch(/^Header\n {2}typ {2}JWT\n {2}alg {2}RS256$/m);
    const exp = new Date((claims["exp"] as number) * 1000).toISOString();
    expect(run.stdout).toMatch(new RegExp(`^ {2}exp +${exp} \\(in (59|60) minutes\\)$`, "m"));
    expect(run.stdout).toMatch(/^ {2}iat +\d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ seconds? ago\)$/m);
    expect(run.stdout).toContain(`  app-only token of app ${ids.daemonClientId} in tenant ${ids.tenantId}`);
    expect(run.stdout).toContain("  roles (application permissions): Orders.Read.All");
    expect(run.stdout).toContain("  client authenticated with: client secret");
    expect(run.stdout).not.toContain(token);
    expect(run.stdout).not.toContain(token.split(".")[2]);
  });

  it("reads the token from stdin with -, dropping a Bearer prefix, and prints JSON with --json", async () => {
    const run = await daemonAuth(["decode", "-", "--json"], { input: `Bearer ${token}\n` });
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { header: Record<string, unknown>; claims: Record<string, unknown>; signatureVerified: boolean };
    expect(printed.signatureVerified).toBe(false);
    expect(printed.header["alg"]).toBe("RS256");
    expect(printed.claims).toEqual(claimsOf(token));
  });

  it("fails with exit 1 for something that is not a JWT, without echoing it", async () => {
    const runs = await Promise.all([daemonAuth(["decode", "opaque-value-123"]), daemonAuth(["decode", "a.b.c.d.e"]), daemonAuth(["decode", "bm90.anNvbg.c2ln"])]);
    expect(runs.map((run) => run.code)).toEqual([1, 1, 1]);
    expect(runs[0].stderr).toBe("daemon-auth decode: this is not a JWT: it has 1 dot-separated part(s), a JWT has 3 (header.claims.signature).\n");
    expect(runs[1].stderr).toContain("encrypted token (JWE)");
    expect(runs[2].stderr).toContain("not base64url-encoded JSON");
    expect(runs.map((run) => run.stderr).join("")).not.toMatch(/opaque-value-123|bm90/);
  });
});

describe("daemon-auth consent-url", () => {
  it("prints the admin consent URL from flags, and from the variables", async () => {
    const redirect = "https://app.example.com/onboarded";
    const [fromFlags, fromVariables] = await Promise.all([
      daemonAuth(["consent-url", "--tenant", ids.tenantDomain, "--client-id", ids.daemonClientId, "--redirect-uri", redirect, "--state", "s-42"]),
      daemonAuth(["consent-url"], { env: demoEnvironment(emulator) }),
    ]);
    expect(fromFlags).toMatchObject({ code: 0, stderr: "" });
    expect(fromFlags.stdout).toBe(
      `https://login.microsoftonline.com/${ids.tenantDomain}/adminconsent?client_id=${ids.daemonClientId}&redirect_uri=${encodeURIComponent(redirect)}&state=s-42\n`,
    );
    expect(fromVariables).toMatchObject({ code: 0, stdout: `${emulator.url}/${ids.tenantDomain}/adminconsent?client_id=${ids.daemonClientId}\n` });
  });

  it("fails with exit 1 and the fix for a redirect URI that is not absolute", async () => {
    const run = await daemonAuth(["consent-url", "--tenant", ids.tenantId, "--client-id", ids.daemonClientId, "--redirect-uri", "/relative"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("redirectUri must be an absolute http(s) URL registered as a redirect URI on the app");
  });
});

describe("usage", () => {
  it("prints --help for the program and every command, and --version", async () => {
    const commands = ["token", "decode", "consent-url", "doctor", "emulator"];
    const [main, version, ...helps] = await Promise.all([
      daemonAuth(["--help"]),
      daemonAuth(["--version"]),
      ...commands.map((command) => daemonAuth([command, "--help"])),
    ]);
    expect(main.code).toBe(0);
    for (const command of commands) expect(main.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, "m"));
    expect(main.stdout).toContain("Exit codes: 0 success, 1 failure, 2 usage error.");
    expect(version).toMatchObject({ code: 0, stdout: "0.1.0\n" });
    helps.forEach((help, index) => {
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: daemon-auth ${commands[index]}`));
    });
  });

  it("exits 2 with one line and a pointer to --help for usage errors", async () => {
    const env = demoEnvironment(emulator);
    const cases: [string[], string][] = [
      [[], "daemon-auth: missing <command>"],
      [["tokens"], "daemon-auth: unknown command 'tokens'"],
      [["token", "--scope", SCOPE, "--bogus"], "daemon-auth token: Unknown option '--bogus'"],
      [["token"], "daemon-auth token: missing --scope <resource>/.default"],
      [["token", "--scope"], "daemon-auth token: Option '--scope <value>' argument missing"],
      [["token", "--scope", SCOPE, "--certificate", "x.pem", "--assertion-file", "t"], "daemon-auth token: give one credential, not --certificate and --assertion-file"],
      [["token", "--scope", SCOPE, "--password", "-"], "daemon-auth token: --password and --send-x5c go with a certificate"],
      [
        ["token", "--scope", SCOPE, "--tenant", ids.tenantDomain, "--authority", `${emulator.url}/fabrikam.example`],
        "daemon-auth token: --authority names tenant 'fabrikam.example' and --tenant 'contoso.onmicrosoft.com': give the tenant once",
      ],
      [["token", "--scope", SCOPE, "--authority", `${emulator.url}/${ids.tenantId}/v2.0`], "daemon-auth token: --authority is the host, or the host and tenant"],
      [["decode"], "daemon-auth decode: missing <token>"],
      [["consent-url", "--tenant", ids.tenantId, "stray"], "daemon-auth consent-url: unexpected argument"],
      [["emulator", "--port", "nope"], "daemon-auth emulator: --port expects a whole number"],
    ];
    const runs = await Promise.all(cases.map(([args]) => daemonAuth(args, { env })));
    runs.forEach((run, index) => {
      const [args, message] = cases[index]!;
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: "" });
      const lines = run.stderr.trimEnd().split("\n");
      expect(lines[0]).toContain(message);
      expect(lines.slice(1)).toEqual([`  see \`${message.split(":")[0]} --help\``]);
    });
    const missing = await daemonAuth(["token", "--scope", SCOPE]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      "missing --tenant (or AZURE_TENANT_ID); --client-id (or AZURE_CLIENT_ID); a credential: --client-secret, --certificate or --assertion-file",
    );
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSelfSignedCertificate, demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator, type GeneratedCertificate } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonAuth, demoEnvironment, doctorCheck, doctorStatuses } from "./helpers.js";

let emulator: Emulator;
let dir: string;
let valid: GeneratedCertificate;
let expired: GeneratedCertificate;

const YEAR_MS = 365 * 86_400_000;

beforeAll(async () => {
  [emulator, dir, valid, expired] = await Promise.all([
    startEmulator({ config: demoEmulatorConfig() }),
    mkdtemp(join(tmpdir(), "daemon-auth-doctor-")),
    createSelfSignedCertificate({ subject: "doctor-valid" }),
    createSelfSignedCertificate({ subject: "doctor-expired", notBefore: new Date(Date.now() - 2 * YEAR_MS), notAfter: new Date(Date.now() - YEAR_MS) }),
  ]);
  emulator.addCertificate(ids.daemonClientId, { pem: valid.certificatePem });
  await Promise.all(
    [valid, expired].map((certificate, index) => writeFile(certificateFile(index), certificate.certificatePem + certificate.privateKeyPem, { mode: 0o600 })),
  );
});

afterAll(async () => {
  await emulator?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const certificateFile = (index: number): string => join(dir, index === 0 ? "valid.pem" : "expired.pem");
const SCOPE = ids.apiScope;

describe("daemon-auth doctor", () => {
  it("passes every check of a working secret configuration, and acquires a token with its roles", async () => {
    const before = emulator.tokenRequestCount({ clientId: ids.daemonClientId });
    const run = await daemonAuth(["doctor", "--scope", SCOPE], { env: demoEnvironment(emulator) });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(doctorStatuses(run.stdout)).toEqual({
      configuration: "PASS",
      scope: "PASS",
      tenant: "PASS",
      clock: "PASS",
      certificate: "SKIP",
      "token endpoint": "PASS",
      token: "PASS",
    });
    expect(doctorCheck(run.stdout, "configuration")).toContain(
      `tenant ${ids.tenantDomain} (AZURE_TENANT_ID), client ${ids.daemonClientId} (AZURE_CLIENT_ID), client secret (AZURE_CLIENT_SECRET), authority host ${emulator.url} (AZURE_AUTHORITY_HOST)`,
    );
    expect(doctorCheck(run.stdout, "tenant")).toContain(`${ids.tenantDomain} is tenant ${ids.tenantId} (issuer ${emulator.issuer(ids.tenantId)})`);
    expect(doctorCheck(run.stdout, "token endpoint")).toContain(emulator.tokenEndpoint(ids.tenantId));
    expect(doctorCheck(run.stdout, "token")).toMatch(/acquired a Bearer token, expires in (59|60) minutes; roles: Orders\.Read\.All$/);
    expect(run.stdout).toMatch(/\nAll checks passed\.\n$/);
    expect(emulator.tokenRequestCount({ clientId: ids.daemonClientId })).toBe(before + 1);
  });

  it("shows the certificate's thumbprints and validity, and passes with a registered certificate", async () => {
    const run = await daemonAuth(["doctor", "--scope", SCOPE, "--certificate", certificateFile(0)], { env: demoEnvironment(emulator) });
    expect(run.code).toBe(0);
    expect(doctorStatuses(run.stdout).certificate).toBe("PASS");
    const check = doctorCheck(run.stdout, "certificate");
    expect(check).toContain("CN=doctor-valid");
    expect(check).toContain(`SHA-1 thumbprint   ${valid.thumbprintSha1} (the "Thumbprint" the Azure portal shows)`);
    expect(check).toContain(`SHA-256 thumbprint ${valid.thumbprintSha256} (x5t#S256 ${valid.x5tS256})`);
    expect(check).toMatch(/expires in (11|12) months/);
    expect(run.stdout).not.toContain("PRIVATE KEY");
  });

  it("fails the token check with the fix for a wrong secret, exit 1, without printing the secret", async () => {
    const run = await daemonAuth(["doctor", "--scope", SCOPE], { env: { ...demoEnvironment(emulator), AZURE_CLIENT_SECRET: "wrong-secret-value" } });
    expect(run.code).toBe(1);
    expect(doctorStatuses(run.stdout)).toMatchObject({ configuration: "PASS", tenant: "PASS", token: "FAIL" });
    const check = doctorCheck(run.stdout, "token");
    expect(check).toMatch(/^FAIL {2}token {11}the token endpoint refused: invalid_client \(AADSTS7000215\), HTTP 401, trace id [0-9a-f-]{36}\n/);
    expect(check).toMatch(/\n {22}fix: The client secret is wrong: send the secret's value, not its id, and check that it was not rotated\.$/);
    expect(run.stdout).toMatch(/\n1 check failed\.\n$/);
    expect(run.stdout + run.stderr).not.toContain("wrong-secret-value");
  });

  it("fails the scope check with the scope to use and skips the token for a scope without /.default", async () => {
    const before = emulator.tokenRequestCount();
    const run = await daemonAuth(["doctor", "--scope", ids.apiIdentifierUri], { env: demoEnvironment(emulator) });
    expect(run.code).toBe(1);
    expect(doctorStatuses(run.stdout)).toMatchObject({ scope: "FAIL", tenant: "PASS", token: "SKIP" });
    expect(doctorCheck(run.stdout, "scope")).toContain(`Scope '${ids.apiIdentifierUri}' is not '<resource>/.default'`);
    expect(doctorCheck(run.stdout, "scope")).toContain(`requested as '${SCOPE}'`);
    expect(emulator.tokenRequestCount()).toBe(before);
  });

  it("fails the certificate and the token for an expired certificate, with how to rotate", async () => {
    const run = await daemonAuth(["doctor", "--scope", SCOPE, "--certificate", certificateFile(1)], { env: demoEnvironment(emulator) });
    expect(run.code).toBe(1);
    expect(doctorStatuses(run.stdout)).toMatchObject({ certificate: "FAIL", token: "FAIL" });
    const check = doctorCheck(run.stdout, "certificate");
    expect(check).toMatch(/^FAIL {2}certificate {5}CN=doctor-expired from file "[^"]+expired\.pem" EXPIRED on \d{4}-\d\d-\d\dT[\d:.]+Z \((12 months|1 year) ago\)\n/);
    expect(check).toContain(`SHA-1 thumbprint   ${expired.thumbprintSha1}`);
    expect(check).toContain(
      "fix: create a new certificate, upload its public part to the app registration, and point --certificate (AZURE_CLIENT_CERTIFICATE_PATH) at it",
    );
    expect(doctorCheck(run.stdout, "token")).toContain("expired on");
    expect(run.stdout).toMatch(/\n2 checks failed\.\n$/);
  });

  it("fails the tenant check with the fix for an unknown tenant", async () => {
    const run = await daemonAuth(["doctor", "--scope", SCOPE, "--tenant", "fabrikam.onmicrosoft.com"], { env: demoEnvironment(emulator) });
    expect(run.code).toBe(1);
    expect(doctorStatuses(run.stdout)).toMatchObject({ tenant: "FAIL", clock: "PASS", "token endpoint": "SKIP", token: "FAIL" });
    const check = doctorCheck(run.stdout, "tenant");
    expect(check).toContain("refused the tenant: invalid_tenant (AADSTS90002), HTTP 400");
    expect(check).toContain("fix: The tenant was not found: check the tenant id or verified domain name.");
  });

  it("fails the configuration check, naming flags and variables, when nothing is configured", async () => {
    const run = await daemonAuth(["doctor", "--scope", SCOPE]);
    expect(run.code).toBe(1);
    expect(doctorStatuses(run.stdout)).toEqual({
      configuration: "FAIL",
      scope: "PASS",
      tenant: "SKIP",
      clock: "SKIP",
      certificate: "SKIP",
      "token endpoint": "SKIP",
      token: "SKIP",
    });
    expect(doctorCheck(run.stdout, "configuration")).toContain("missing --tenant (or AZURE_TENANT_ID); --client-id (or AZURE_CLIENT_ID)");
  });
});

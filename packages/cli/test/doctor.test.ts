import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
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

  it("prints a server's trace id and description with core's echo redaction: an echoed secret never reaches the report", async () => {
    const tenantGuid = "44444444-4444-4444-4444-444444444444";
    const echoing = await listen((request, body, response) => {
      const url = `http://127.0.0.1:${(echoing.address() as AddressInfo).port}`;
      response.setHeader("content-type", "application/json");
      if (request.method === "GET" && request.url?.endsWith("/.well-known/openid-configuration")) {
        response.end(JSON.stringify({ issuer: `${url}/${tenantGuid}/v2.0`, token_endpoint: `${url}/${tenantGuid}/oauth2/v2.0/token` }));
        return;
      }
      if (request.method === "GET") {
        response.statusCode = 405;
        response.end(JSON.stringify({ error: "invalid_request" }));
        return;
      }
      const secret = new URLSearchParams(body).get("client_secret") ?? "";
      response.statusCode = 401;
      response.end(
        JSON.stringify({
          error: "invalid_client",
          error_description: `Bad secret ${secret} in ${body}`,
          trace_id: secret,
          correlation_id: `corr-${secret}`,
        }),
      );
    });
    try {
      const environment = { ...demoEnvironment(emulator), AZURE_AUTHORITY_HOST: `http://127.0.0.1:${(echoing.address() as AddressInfo).port}` };
      const run = await daemonAuth(["doctor", "--scope", SCOPE], { env: environment });
      expect(run.code).toBe(1);
      expect(doctorStatuses(run.stdout)).toMatchObject({ tenant: "PASS", token: "FAIL" });
      const check = doctorCheck(run.stdout, "token");
      expect(check).toMatch(/^FAIL {2}token {11}the token endpoint refused: invalid_client, HTTP 401\n/);
      expect(check).toContain("fix: Check the client id and the client credential.");
      expect(run.stdout + run.stderr).not.toContain(ids.daemonClientSecret);
      expect(run.stdout + run.stderr).not.toContain(encodeURIComponent(ids.daemonClientSecret));
    } finally {
      await new Promise((resolve) => echoing.close(resolve));
    }
  });

  it("refuses a tenant document reached through a redirect, naming only the target host", async () => {
    const redirecting = await listen((_request, _body, response) => {
      response.writeHead(302, { location: "http://127.0.0.2:9/steal?token=x" }).end();
    });
    try {
      const environment = { ...demoEnvironment(emulator), AZURE_AUTHORITY_HOST: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}` };
      const run = await daemonAuth(["doctor", "--scope", SCOPE], { env: environment });
      expect(run.code).toBe(1);
      const check = doctorCheck(run.stdout, "tenant");
      expect(check).toMatch(/^FAIL {2}tenant {10}.*redirect \(HTTP 302\) to host '127\.0\.0\.2:9'/);
      expect(check).not.toContain("steal");
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });
});

/** A loopback HTTP server answering with `handle`, given the request body as text. */
async function listen(
  handle: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => handle(request, Buffer.concat(chunks).toString("utf8"), response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

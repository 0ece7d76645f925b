/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON bodies are inspected loosely in tests */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import type { EmulatorConfig, GeneratedCertificate } from "../src/index.js";
import type { Emulator } from "../src/index.js";

export const CONTOSO = "11111111-1111-4111-8111-111111111111";
export const FABRIKAM = "22222222-2222-4222-8222-222222222222";
export const LONELY = "33333333-3333-4333-8333-333333333333";
export const DAEMON = "aaaaaaaa-0000-4000-8000-000000000001";
export const ISV = "aaaaaaaa-0000-4000-8000-000000000002";
export const ORDERS_API = "aaaaaaaa-0000-4000-8000-000000000003";
export const LEGACY_API = "aaaaaaaa-0000-4000-8000-000000000004";
export const CERT_APP = "aaaaaaaa-0000-4000-8000-000000000005";
export const SECRET = "daemon-secret-value-1";
export const ISV_SECRET = "isv-secret-value";

/** A directory exercising every rule: two tenants, a single- and a multi-tenant client, two resources. */
export function testConfig(): EmulatorConfig {
  return {
    tenants: [
      { id: CONTOSO, domains: ["contoso.onmicrosoft.com", "contoso.example"], displayName: "Contoso" },
      { id: FABRIKAM, domains: ["fabrikam.onmicrosoft.com"], displayName: "Fabrikam" },
      { id: LONELY },
    ],
    applications: [
      {
        clientId: DAEMON,
        displayName: "orders daemon",
        homeTenant: "contoso.onmicrosoft.com",
        secrets: [
          { value: SECRET, id: "secret-id-1" },
          { value: "expired-secret", expiresAt: "2020-01-01T00:00:00Z" },
        ],
      },
      { clientId: ISV, homeTenant: CONTOSO, multiTenant: true, secrets: [{ value: ISV_SECRET }] },
      {
        clientId: ORDERS_API,
        homeTenant: CONTOSO,
        multiTenant: true,
        identifierUris: ["api://orders"],
        appRoles: [{ value: "Orders.Read.All" }, { value: "Orders.Write.All" }, { value: "Orders.Admin" }],
      },
      { clientId: LEGACY_API, homeTenant: CONTOSO, identifierUris: ["https://x.example/"], appRoles: [{ value: "Legacy.Use" }] },
      { clientId: CERT_APP, homeTenant: CONTOSO },
    ],
    grants: [
      { tenant: CONTOSO, clientId: DAEMON, resource: "api://orders", roles: ["Orders.Write.All", "Orders.Read.All"] },
      { tenant: "fabrikam.onmicrosoft.com", clientId: ISV, resource: ORDERS_API, roles: ["Orders.Read.All"] },
    ],
  };
}

export interface TokenCall {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

/** POSTs a form to the token endpoint of `tenant`. */
export async function postToken(
  emulator: Emulator,
  tenant: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TokenCall> {
  const response = await fetch(emulator.tokenEndpoint(tenant), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

export function secretForm(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const form: Record<string, string | undefined> = {
    grant_type: "client_credentials",
    client_id: DAEMON,
    client_secret: SECRET,
    scope: "api://orders/.default",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(form).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

export interface AssertionOptions {
  alg?: "PS256" | "RS256" | "HS256";
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** Claims to drop. */
  omit?: string[];
  nowSeconds?: number;
}

/** Signs a client assertion as MSAL does (PS256 + x5t#S256 by default). */
export async function signAssertion(
  certificate: GeneratedCertificate,
  clientId: string,
  audience: string,
  options: AssertionOptions = {},
): Promise<string> {
  const alg = options.alg ?? "PS256";
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    aud: audience,
    iss: clientId,
    sub: clientId,
    jti: crypto.randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 600,
    ...options.claims,
  };
  for (const name of options.omit ?? []) delete claims[name];
  const header = {
    alg,
    typ: "JWT",
    ...(alg === "RS256" ? { x5t: certificate.x5t } : { "x5t#S256": certificate.x5tS256 }),
    ...options.header,
  };
  return new SignJWT(claims).setProtectedHeader(header).sign(certificate.privateKey);
}

export function assertionForm(clientId: string, assertion: string, scope = "api://orders/.default"): Record<string, string> {
  return {
    grant_type: "client_credentials",
    client_id: clientId,
    scope,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion,
  };
}

const PEER_SCRIPT = fileURLToPath(new URL("./fixtures/peer.mjs", import.meta.url));

/** Runs a peer script (default test/fixtures/peer.mjs) in a child process that trusts `caPath`; resolves its last JSON line. */
export function runPeer(caPath: string, input: Record<string, unknown>, script = PEER_SCRIPT): Promise<Record<string, any>> {
  return runJsonChild(process.execPath, [script], { ...process.env, NODE_EXTRA_CA_CERTS: caPath, PEER_INPUT: JSON.stringify(input) });
}

/** Runs `command args` with exactly `env`; resolves the last line of its output, parsed as JSON. */
export function runJsonChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`peer exited ${code}: ${stdout} ${stderr}`));
      }
    });
  });
}

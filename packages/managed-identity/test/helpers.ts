// Shared by the tests: the emulator's directory with managed identities, a test clock
// that never waits, a logger that keeps what it is told, real loopback servers for the
// sources the emulator does not serve, and the leak check over every rendering.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import type { Clock, Logger } from "@daemon-auth/core";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator, type EmulatorConfig, type RecordedRequest } from "@daemon-auth/emulator";
import { needlesOf } from "@daemon-auth/vitest-config/secret-scan";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { createManagedIdentityClient } from "../src/index.js";

export const ids = demoEmulatorIdentities;
export const IMDS_PATH = "/metadata/identity/oauth2/token";
export const APP_SERVICE_PATH = "/msi/token";
export const API = ids.apiIdentifierUri;
export const API_SCOPE = ids.apiScope;

/** A second tenant that consented to a multi-tenant app of Contoso's, and its own API. */
export const FABRIKAM = "2b4d6f8a-0c2e-4a4c-8e6a-0b2d4f6a8c0e";
export const ISV_APP = "3c5e7a9b-1d3f-4b5d-9f7b-1c3e5a7b9d1f";
export const FABRIKAM_API = "api://fabrikam-orders";

/** The demo directory (system- and user-assigned identities in Contoso), plus Fabrikam, its API and a consented multi-tenant app. */
export function testConfig(): EmulatorConfig {
  const config = demoEmulatorConfig();
  config.tenants.push({ id: FABRIKAM, domains: ["fabrikam.onmicrosoft.com"], displayName: "fabrikam" });
  config.applications.push(
    { clientId: ISV_APP, displayName: "multi-tenant daemon", homeTenant: ids.tenantId, multiTenant: true },
    {
      clientId: "4d6f8a0b-2c4e-4a6c-8e0a-2c4e6a8c0e2a",
      displayName: "fabrikam orders API",
      homeTenant: FABRIKAM,
      identifierUris: [FABRIKAM_API],
      appRoles: [{ value: "Orders.Read.All" }],
    },
  );
  config.grants = [...(config.grants ?? []), { tenant: FABRIKAM, clientId: ISV_APP, resource: FABRIKAM_API, roles: ["Orders.Read.All"] }];
  return config;
}

/** An emulator for a test file, with {@link testConfig}, pointed at by `env`; faults and the request log are reset before each test. */
export interface EmulatedSource {
  readonly emulator: Emulator;
  /** What `emulator.managedIdentityEnvironment(source)` returns. */
  readonly env: Record<string, string>;
  /** The requests to the source's endpoint so far (a trailing slash, as msal-node sends to IMDS, counts). */
  requests(): RecordedRequest[];
}

/** Starts the emulator before the file's tests and closes it after them. */
export function emulatedSource(source: "imds" | "app-service"): EmulatedSource {
  const path = source === "imds" ? IMDS_PATH : APP_SERVICE_PATH;
  let emulator: Emulator | undefined;
  let env: Record<string, string> = {};
  beforeAll(async () => {
    emulator = await startEmulator({ config: testConfig() });
    env = emulator.managedIdentityEnvironment(source);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(() => {
    emulator?.faults.clear();
    emulator?.resetRequests();
  });
  const started = (): Emulator => {
    if (emulator === undefined) throw new Error("The emulator starts in beforeAll; use it inside tests.");
    return emulator;
  };
  return {
    get emulator() {
      return started();
    },
    get env() {
      return env;
    },
    requests: () => started().requests.filter((request) => request.path.replace(/\/$/, "") === path),
  };
}

/** The user-assigned identity's token, named by each of its three ids in turn. */
export function itGetsUserAssignedTokens(mi: EmulatedSource): void {
  it.each([
    ["clientId", ids.userIdentityClientId],
    ["objectId", ids.userIdentityObjectId],
    ["resourceId", ids.userIdentityResourceId],
  ] as const)("gets a user-assigned identity's token named by %s", async (kind, value) => {
    const client = createManagedIdentityClient({ env: mi.env, [kind]: value });
    const { accessToken } = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(claimsOf(accessToken)).toMatchObject({
      oid: ids.userIdentityObjectId,
      azp: ids.userIdentityClientId,
      roles: ["Orders.Write.All"],
      xms_mirid: ids.userIdentityResourceId,
    });
    expect(mi.requests().at(-1)?.clientId).toBe(ids.userIdentityClientId);
    await client.dispose();
  });
}

/** The claims of a JWT, unverified. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
}

/** The claims that say whose token it is and for what: what two clients' tokens for one identity share. */
export function identityClaims(token: string): Record<string, unknown> {
  const { iss, aud, oid, sub, appid, azp, tid, roles, idtyp, xms_mirid } = claimsOf(token);
  return { iss, aud, oid, sub, appid, azp, tid, roles, idtyp, xms_mirid };
}

/** A clock that starts now and moves only when slept on: retries and Retry-After cost no real time. */
export function testClock(): Clock & { slept: number[] } {
  let now = Date.now();
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

/** A logger that keeps every record, as JSON lines. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, fields?: object) => {
    lines.push(JSON.stringify({ level, message, ...fields }));
  };
  return { lines, debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
}

/**
 * Every way a value may be printed; for an error, also each cause's message, stack and
 * raw inspection (custom inspectors off: what a careless logger shows). A client is not
 * inspected raw: its in-process index holds tokens by design, as core's client does.
 */
export function printed(value: unknown): string[] {
  const outputs = [String(value), JSON.stringify(value) ?? "", inspect(value, { showHidden: true, depth: 8 })];
  for (let current: unknown = value, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    outputs.push(current.message, current.stack ?? "", inspect(current, { showHidden: true, depth: 8 }), inspect(current, { customInspect: false, depth: 8 }));
  }
  return outputs;
}

/** Fails naming where a secret (in any of its leaked forms) shows, never the secret. */
export function expectNoSecret(outputs: readonly string[], secrets: readonly string[]): void {
  const leaks = secrets.flatMap((secret, index) =>
    outputs.flatMap((output, where) => (needlesOf(secret).some((needle) => output.includes(needle.text)) ? [`secret #${index} in output #${where}`] : [])),
  );
  if (leaks.length > 0) throw new Error(`Secrets leaked: ${leaks.join(", ")}`);
}

/** What a loopback server saw of one request. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A real HTTP(S) server on loopback answering with `answer`, keeping every request. */
export interface LoopbackServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startLoopbackServer(
  answer: (request: SeenRequest, response: ServerResponse, index: number) => void,
  tls?: { key: string; cert: string },
): Promise<LoopbackServer> {
  const requests: SeenRequest[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const seen = { method: request.method ?? "", url: new URL(request.url ?? "/", "http://127.0.0.1"), headers: request.headers, body };
      requests.push(seen);
      answer(seen, response, requests.length - 1);
    });
  };
  const server = tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON body. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/** A managed identity answer whose token is JWT-shaped, expiring in an hour (epoch seconds, as a string). */
export function tokenAnswer(token = fakeJwt(), fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { access_token: token, expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: API, token_type: "Bearer", ...fields };
}

let counter = 0;
/** A JWT-shaped string (unsigned) unique to this run: the loopback servers' tokens. */
export function fakeJwt(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  counter += 1;
  return `${part({ alg: "none", typ: "JWT" })}.${part({ n: counter, r: Math.random() })}.c2lnbmF0dXJlLW9mLXRlc3Q`;
}

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { Agent, createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createEmptyPipeline,
  createPipelineRequest,
  type Pipeline,
} from "@azure/core-rest-pipeline";
import { createDaemonClient, DaemonAuthError, type DaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { toTokenCredential } from "../src/index.js";

// The bearer policy refuses plain http, so the loopback "resource server" speaks HTTPS
// with a throwaway self-signed certificate for 127.0.0.1 (made by openssl), trusted by
// the test's agent only. It
// accepts only a valid emulator token for the demo API, that accepts only a valid emulator token for the demo API,
// and answers the first request carrying `challengeOnce` with a CAE claims challenge.
let emulator: Emulator;
let server: Server;
let resourceUrl: string;
let agent: Agent;
const clients: DaemonClient[] = [];
const seen: { authorization: string | undefined; status: number }[] = [];
const claimsChallenge = JSON.stringify({ access_token: { nbf: { essential: true, value: "1" } } });

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  const jwks = createRemoteJWKSet(new URL(emulator.jwksUri(ids.tenantId)));
  let challenged = false;
  const tls = await makeLoopbackCertificate();
  agent = new Agent({ ca: tls.cert });
  server = createServer(tls, (request, response) => {
    void (async () => {
      const status = await authorize(request);
      const challenge = status === 200 && request.url === "/challenge-once" && !challenged;
      if (challenge) challenged = true;
      const final = challenge ? 401 : status;
      seen.push({ authorization: request.headers.authorization, status: final });
      if (challenge) {
        response.setHeader(
          "WWW-Authenticate",
          `Bearer realm="", authorization_uri="${emulator.authority(ids.tenantId)}", error="insufficient_claims", claims="${Buffer.from(claimsChallenge).toString("base64")}"`,
        );
      }
      response.writeHead(final, { "content-type": "application/json" }).end(JSON.stringify({ ok: final === 200 }));
    })();
  });
  async function authorize(request: IncomingMessage): Promise<number> {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "");
    if (!match?.[1]) return 401;
    try {
      await jwtVerify(match[1], jwks, { audience: ids.apiIdentifierUri });
      return 200;
    } catch {
      return 401;
    }
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  resourceUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  seen.length = 0;
  emulator.resetRequests();
});

afterAll(async () => {
  agent?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await emulator?.close();
});

async function makeLoopbackCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), "daemon-auth-azure-tls-"));
  try {
    const [keyFile, certFile] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    await promisify(execFile)("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", keyFile, "-out", certFile,
    ]);
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function pipelineFor(secret: string): Pipeline {
  const client = createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: clientSecret(secret),
  });
  clients.push(client);
  const pipeline = createEmptyPipeline();
  // Azure SDK clients pass the bare resource for some services; the bridge appends /.default.
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: toTokenCredential(client), scopes: ids.apiIdentifierUri }));
  return pipeline;
}

async function get(pipeline: Pipeline, path: string): Promise<number> {
  const request = createPipelineRequest({ url: `${resourceUrl}${path}` });
  // createPipelineRequest does not copy `agent`; set it on the request.
  request.agent = agent;
  const response = await pipeline.sendRequest(createDefaultHttpClient(), request);
  return response.status;
}

describe("bearerTokenAuthenticationPolicy with the bridge", () => {
  it("sends a valid emulator token as Authorization: Bearer, from the cache the second time", async () => {
    const pipeline = pipelineFor(ids.daemonClientSecret);
    expect(await get(pipeline, "/secrets/a")).toBe(200);
    expect(await get(pipeline, "/secrets/b")).toBe(200);
    expect(seen.map((s) => s.status)).toEqual([200, 200]);
    expect(seen[0]?.authorization).toMatch(/^Bearer ey/);
    expect(seen[1]?.authorization).toBe(seen[0]?.authorization);
    expect(emulator.tokenRequestCount()).toBe(1);
  });

  it("answers a claims challenge with a new token and retries", async () => {
    const pipeline = pipelineFor(ids.daemonClientSecret);
    expect(await get(pipeline, "/challenge-once")).toBe(200);
    expect(seen.map((s) => s.status)).toEqual([401, 200]);
    expect(emulator.tokenRequestCount()).toBe(2);
  });

  it("asks for CAE as the policy does: cp1 is sent, and CAE and plain tokens are never served for each other", async () => {
    const pipeline = pipelineFor(ids.daemonClientSecret);
    const client = clients[0]!;
    const capabilitiesOf = (authorization: string | undefined): unknown =>
      (JSON.parse(Buffer.from((authorization ?? "").split(".")[1] ?? "", "base64url").toString("utf8")) as { xms_cc?: unknown }).xms_cc;
    expect(await get(pipeline, "/secrets/a")).toBe(200);
    // The policy's getToken had enableCae: the emulator issued a CAE token, as Entra does for cp1.
    expect(capabilitiesOf(seen[0]?.authorization)).toEqual(["cp1"]);
    const credential = toTokenCredential(client);
    const plain = await credential.getToken(ids.apiScope);
    expect(capabilitiesOf(`Bearer ${plain?.token ?? ""}`)).toBeUndefined();
    expect(emulator.tokenRequestCount()).toBe(2);
    // Each kind comes from its own cache entry from now on.
    expect((await credential.getToken(ids.apiScope, { enableCae: true }))?.token).toBe(seen[0]?.authorization?.slice("Bearer ".length));
    expect((await credential.getToken(ids.apiScope))?.token).toBe(plain?.token);
    expect(emulator.tokenRequestCount()).toBe(2);
    // A claims challenge gets a fresh CAE token with the challenge merged.
    const challenged = await credential.getToken(ids.apiScope, { enableCae: true, claims: claimsChallenge });
    expect(emulator.tokenRequestCount()).toBe(3);
    expect(challenged?.token).not.toBe(seen[0]?.authorization?.slice("Bearer ".length));
    expect(capabilitiesOf(`Bearer ${challenged?.token ?? ""}`)).toEqual(["cp1"]);
  });

  it("rejects with core's typed error when the client cannot get a token", async () => {
    const pipeline = pipelineFor("not-the-secret");
    const error: unknown = await get(pipeline, "/secrets/a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonAuthError);
    // The same error the client itself throws, not a RestError wrapping it.
    const direct: unknown = await clients[0]?.acquireTokenForClient({ scopes: [ids.apiScope] }).catch((e: unknown) => e);
    expect((error as DaemonAuthError).constructor).toBe((direct as DaemonAuthError).constructor);
    expect((error as DaemonAuthError).code).toBe((direct as DaemonAuthError).code);
    expect(String((error as Error).message)).not.toContain("not-the-secret");
    expect(seen).toHaveLength(0);
  });
});

import { Readable } from "node:stream";
import { inspect } from "node:util";
import { InvalidResponseError, ServerError } from "@daemon-auth/core";
import { FormData as UndiciFormData, request, type Dispatcher } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsentRequiredError, createApiInterceptor, type ApiInterceptorOptions } from "../src/index.js";
import { TestDaemonClient } from "./helpers/daemon-client.js";
import { CLAIMS, CLAIMS_URL, GRAPH_DENIED, startFixture, type Fixture } from "./helpers/api-server.js";
import { CLIENT_SECRET, startHttpServer } from "./helpers/servers.js";

const SCOPES = ["api://orders/.default"];

let fixture: Fixture;
beforeEach(async () => {
  fixture = await startFixture();
});
afterEach(() => fixture.close());

function dispatcher(extra: Partial<ApiInterceptorOptions> = {}): Dispatcher {
  return fixture.transport.dispatcher.compose(createApiInterceptor({ client: fixture.client, scopes: SCOPES, ...extra }));
}

async function call(path: string, options: Partial<Parameters<typeof request>[1]> = {}, via = dispatcher()) {
  const response = await request(`${fixture.api.origin}${path}`, { dispatcher: via, ...options });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

describe("createApiInterceptor", () => {
  it("adds the bearer token to undici.request calls", async () => {
    const via = dispatcher();
    for (let i = 0; i < 3; i++) {
      const { status, text } = await call("/me", { headers: { authorization: "Bearer forged", "x-extra": "1" } }, via);
      expect(status).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ authorization: "Bearer token-1" });
    }
    expect(fixture.tokens.requests).toHaveLength(1);
  });

  it.each([
    ["/claims", CLAIMS],
    ["/claims-url", CLAIMS_URL],
  ])("answers the %s claims challenge with a token for its claims, once", async (path, claims) => {
    const { status, text } = await call(path, { method: "POST", body: "order=1" });
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ ok: true, body: "order=1" });
    expect(fixture.tokens.requests.map((seen) => seen.claims)).toEqual([undefined, claims]);
    expect(fixture.api.seen.map((seen) => [seen.authorization, seen.body])).toEqual([
      ["Bearer token-1", "order=1"],
      ["Bearer token-2", "order=1"],
    ]);
  });

  it("retries a plain 401 once with forceRefresh, and returns a second 401", async () => {
    expect((await call("/stale")).status).toBe(200);
    expect(fixture.client.calls[1]).toMatchObject({ forceRefresh: true });

    const again = await call("/always-401");
    expect(again.status).toBe(401);
    expect(again.headers["www-authenticate"]).toBe('Bearer realm="api"');
    expect(fixture.api.seen.filter((seen) => seen.path === "/always-401")).toHaveLength(2);
  });

  it("keeps using the connection after swallowing a 401", async () => {
    const before = fixture.api.connections();
    await call("/stale");
    await new Promise((resolve) => setImmediate(resolve));
    await call("/me");
    expect(fixture.api.connections() - before).toBeLessThanOrEqual(2);
    expect(fixture.api.seen).toHaveLength(3);
  });

  it("rejects malformed claims with InvalidResponseError, without retry", async () => {
    await expect(call("/bad-claims")).rejects.toBeInstanceOf(InvalidResponseError);
    expect(fixture.api.seen).toHaveLength(1);
  });

  it("never retries a stream body", async () => {
    const { status } = await call("/stale", { method: "POST", body: Readable.from([Buffer.from("streamed")]) });
    expect(status).toBe(401);
    expect(fixture.api.seen.map((seen) => seen.body)).toEqual(["streamed"]);
    expect(fixture.tokens.requests).toHaveLength(1);
  });

  it("replays bytes and FormData bodies", async () => {
    expect((await call("/stale", { method: "POST", body: new TextEncoder().encode("bytes!") })).status).toBe(200);
    expect(fixture.api.seen.map((seen) => seen.body)).toEqual(["bytes!", "bytes!"]);
    const form = new UndiciFormData();
    form.append("order", "42");
    expect((await call("/always-401", { method: "POST", body: form })).status).toBe(401);
    const forms = fixture.api.seen.filter((seen) => seen.path === "/always-401");
    expect(forms).toHaveLength(2);
    expect(forms.every((seen) => seen.body.includes("42"))).toBe(true);
  });

  it("rejects a Graph consent refusal with ConsentRequiredError", async () => {
    const error = (await call("/graph-403").catch((reason: unknown) => reason)) as ConsentRequiredError;
    expect(error).toBeInstanceOf(ConsentRequiredError);
    expect(error.requestId).toBe(GRAPH_DENIED.error.innerError["request-id"]);
    expect(error.adminConsentUrl).toBe(
      `https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=${fixture.client.clientId}`,
    );
    const printed = `${String(error)} ${inspect(error)} ${JSON.stringify(error)}`;
    expect(printed).not.toContain(CLIENT_SECRET);
    expect(printed).not.toMatch(/token-\d/);
  });

  it("rejects an insufficient_scope challenge with ConsentRequiredError", async () => {
    await expect(call("/scope-403")).rejects.toBeInstanceOf(ConsentRequiredError);
  });

  it("passes other 403s through with their body", async () => {
    const other = await call("/other-403");
    expect(other.status).toBe(403);
    expect(JSON.parse(other.text)).toEqual({ error: { code: "Forbidden_BlockedByPolicy", message: "nope" } });
    expect(other.headers["content-type"]).toBe("application/json");
    expect((await call("/text-403")).text).toBe("Forbidden");
  });

  it("passes a large 403 JSON body through intact", async () => {
    const big = JSON.stringify({ error: { code: "Other" }, padding: "p".repeat(200 * 1024) });
    const server = await startHttpServer((_req, res) => {
      res.writeHead(403, { "content-type": "application/json" });
      res.end(big);
    });
    try {
      const response = await request(`${server.origin}/`, { dispatcher: dispatcher() });
      expect(response.statusCode).toBe(403);
      expect(await response.body.text()).toBe(big);
    } finally {
      await server.close();
    }
  });

  it("propagates a token failure as the request's rejection", async () => {
    const failing = new TestDaemonClient(fixture.tokens.tokenEndpoint, fixture.transport, "contoso.onmicrosoft.com", "wrong-secret");
    const via = fixture.transport.dispatcher.compose(createApiInterceptor({ client: failing, scopes: SCOPES }));
    await expect(call("/me", {}, via)).rejects.toBeInstanceOf(ServerError);
    expect(fixture.api.seen).toHaveLength(0);
  });

  it("rejects with the signal's reason when aborted before the token arrives", async () => {
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    await expect(call("/me", { signal: controller.signal })).rejects.toThrow("shutting down");
    expect(fixture.api.seen).toHaveLength(0);
  });

  it("leaves other origins alone", async () => {
    const elsewhere = await startHttpServer((req, res) => void res.end(req.headers.authorization ?? "none"));
    try {
      const via = dispatcher({ origins: [fixture.api.origin] });
      const response = await request(`${elsewhere.origin}/`, { dispatcher: via });
      expect(await response.body.text()).toBe("none");
      expect(fixture.client.calls).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });
});

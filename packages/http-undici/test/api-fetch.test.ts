import { inspect } from "node:util";
import { ConfigurationError, InvalidResponseError } from "@daemon-auth/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsentRequiredError, createApiFetch, parseAdminConsentCallback } from "../src/index.js";
import { CLAIMS, CLAIMS_URL, startFixture, type Fixture } from "./helpers/api-server.js";
import { CLIENT_SECRET, startHttpServer } from "./helpers/servers.js";

const SCOPES = ["api://orders/.default"];

let fixture: Fixture;
beforeEach(async () => {
  fixture = await startFixture();
});
afterEach(() => fixture.close());

function apiFetch(extra: Partial<Parameters<typeof createApiFetch>[0]> = {}): ReturnType<typeof createApiFetch> {
  return createApiFetch({ client: fixture.client, scopes: SCOPES, ...extra });
}

function assertNoSecrets(value: unknown): void {
  const printed = `${String(value)} ${inspect(value, { depth: 6 })} ${JSON.stringify(value)}`;
  expect(printed).not.toContain(CLIENT_SECRET);
  expect(printed).not.toMatch(/token-\d+/);
}

describe("createApiFetch", () => {
  it("adds the bearer token, reusing the client's cached token", async () => {
    const call = apiFetch();
    for (let i = 0; i < 3; i++) {
      const response = await call(`${fixture.api.origin}/me`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ authorization: "Bearer token-1" });
    }
    expect(fixture.tokens.requests).toHaveLength(1);
    expect(fixture.client.calls.map((call) => call.scopes)).toEqual([SCOPES, SCOPES, SCOPES]);
  });

  it("replaces a caller's Authorization header and keeps the other headers", async () => {
    const response = await apiFetch()(`${fixture.api.origin}/me`, {
      headers: { Authorization: "Bearer forged", "content-type": "text/plain" },
      method: "POST",
      body: "hello",
    });
    expect(await response.json()).toMatchObject({ authorization: "Bearer token-1", body: "hello" });
    expect(fixture.api.seen[0]?.contentType).toBe("text/plain");
  });

  it.each([
    ["/claims", CLAIMS, "base64"],
    ["/claims-url", CLAIMS_URL, "base64url"],
  ])("answers a %s claims challenge (%s) with a token for those claims, once", async (path, claims) => {
    const call = apiFetch({ tenantId: "fabrikam.onmicrosoft.com" });
    const response = await call(`${fixture.api.origin}${path}`, { method: "POST", body: "order=1" });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, body: "order=1" });
    expect(fixture.tokens.requests.map((request) => request.claims)).toEqual([undefined, claims]);
    expect(fixture.client.calls[1]).toMatchObject({ claims, tenantId: "fabrikam.onmicrosoft.com", scopes: SCOPES });
    expect(fixture.api.seen.map((seen) => seen.authorization)).toEqual(["Bearer token-1", "Bearer token-2"]);
    expect(fixture.api.seen.map((seen) => seen.body)).toEqual(["order=1", "order=1"]);
  });

  it("refuses malformed claims with a typed error and does not retry", async () => {
    const error = await apiFetch()(`${fixture.api.origin}/bad-claims`).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as InvalidResponseError).status).toBe(401);
    expect((error as Error).message).toContain("not base64-encoded JSON");
    expect(fixture.api.seen).toHaveLength(1);
    expect(fixture.tokens.requests).toHaveLength(1);
  });

  it("retries a plain 401 once with a freshly acquired token", async () => {
    const response = await apiFetch()(`${fixture.api.origin}/stale`);
    expect(response.status).toBe(200);
    expect(fixture.client.calls[1]).toMatchObject({ forceRefresh: true });
    expect(fixture.client.calls[1]?.claims).toBeUndefined();
    expect(fixture.tokens.requests).toHaveLength(2);
    expect(fixture.api.seen.map((seen) => seen.authorization)).toEqual(["Bearer token-1", "Bearer token-2"]);
  });

  it("returns the second 401 as is: one retry, no loop", async () => {
    const response = await apiFetch()(`${fixture.api.origin}/always-401`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    expect(fixture.api.seen).toHaveLength(2);
    expect(fixture.tokens.requests).toHaveLength(2);
  });

  it("never retries a ReadableStream body", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("streamed"));
        controller.close();
      },
    });
    const response = await apiFetch()(`${fixture.api.origin}/stale`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(401);
    expect(fixture.api.seen).toHaveLength(1);
    expect(fixture.api.seen[0]?.body).toBe("streamed");
    expect(fixture.tokens.requests).toHaveLength(1);
  });

  it.each([
    ["a string", (): BodyInit => "a=1&b=2", "a=1&b=2", "text/plain;charset=UTF-8"],
    ["URLSearchParams", (): BodyInit => new URLSearchParams({ a: "1", b: "2" }), "a=1&b=2", "application/x-www-form-urlencoded;charset=UTF-8"],
    ["a Uint8Array", (): BodyInit => new TextEncoder().encode("bytes!"), "bytes!", undefined],
    ["a Blob", (): BodyInit => new Blob(["blob!"], { type: "text/csv" }), "blob!", "text/csv"],
  ] as const)("replays %s body on the retry", async (_name, makeBody, text, contentType) => {
    const response = await apiFetch()(`${fixture.api.origin}/stale`, { method: "POST", body: makeBody() });
    expect(response.status).toBe(200);
    expect(fixture.api.seen.map((seen) => seen.body)).toEqual([text, text]);
    expect(fixture.api.seen.map((seen) => seen.contentType)).toEqual([contentType, contentType]);
  });

  it("replays a FormData body on the retry", async () => {
    const form = new FormData();
    form.append("order", "42");
    const response = await apiFetch()(`${fixture.api.origin}/stale`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    const [first, second] = fixture.api.seen;
    expect(first?.body).toContain('name="order"');
    expect(first?.body).toContain("42");
    expect(second?.body).toContain('name="order"');
    expect(second?.contentType).toMatch(/^multipart\/form-data; boundary=/);
  });

  it("turns Graph's Authorization_RequestDenied into ConsentRequiredError with the admin consent URL", async () => {
    const call = apiFetch({ consent: { redirectUri: "https://daemon.example/consented" } });
    const error = await call(`${fixture.api.origin}/graph-403?$top=5`).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(ConsentRequiredError);
    const consent = error as ConsentRequiredError;
    expect(consent.code).toBe("ERR_CONSENT_REQUIRED");
    expect(consent.status).toBe(403);
    expect(consent.apiError).toBe("Authorization_RequestDenied");
    expect(consent.requestId).toBe("6a1b2c3d-0000-4000-8000-000000000001");
    expect(consent.tenantId).toBe("contoso.onmicrosoft.com");
    expect(consent.clientId).toBe(fixture.client.clientId);
    expect(consent.url).toBe(`${fixture.api.origin}/graph-403`);
    const url = new URL(consent.adminConsentUrl);
    expect(`${url.origin}${url.pathname}`).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent");
    expect(url.searchParams.get("client_id")).toBe(fixture.client.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe("https://daemon.example/consented");
    expect(consent.message).toContain("admin consent");
    expect(consent.message).toContain(consent.adminConsentUrl);
    assertNoSecrets(consent);
    // No retry: consent is not something a new token fixes.
    expect(fixture.api.seen).toHaveLength(1);
    expect(fixture.tokens.requests).toHaveLength(1);
  });

  it("turns a WWW-Authenticate insufficient_scope into ConsentRequiredError", async () => {
    const call = apiFetch({ consent: { clientId: "other-app", authorityHost: "https://login.microsoftonline.us" } });
    const error = (await call(`${fixture.api.origin}/scope-403`).catch((reason: unknown) => reason)) as ConsentRequiredError;
    expect(error).toBeInstanceOf(ConsentRequiredError);
    expect(error.apiError).toBe("insufficient_scope");
    expect(error.adminConsentUrl).toBe("https://login.microsoftonline.us/contoso.onmicrosoft.com/adminconsent?client_id=other-app");
    assertNoSecrets(error);
  });

  it("returns other 403s untouched, body readable", async () => {
    const call = apiFetch();
    const other = await call(`${fixture.api.origin}/other-403`);
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({ error: { code: "Forbidden_BlockedByPolicy", message: "nope" } });
    const text = await call(`${fixture.api.origin}/text-403`);
    expect(await text.text()).toBe("Forbidden");
  });

  it("sends no token to origins outside `origins`", async () => {
    const elsewhere = await startHttpServer((req, res) => void res.end(JSON.stringify({ authorization: req.headers.authorization ?? null })));
    try {
      const call = apiFetch({ origins: [fixture.api.origin] });
      expect(await (await call(`${elsewhere.origin}/`)).json()).toEqual({ authorization: null });
      expect(await (await call(`${fixture.api.origin}/me`)).json()).toMatchObject({ authorization: "Bearer token-1" });
      expect(fixture.client.calls).toHaveLength(1);
    } finally {
      await elsewhere.close();
    }
  });

  it("sends through the given dispatcher", async () => {
    let dispatched = 0;
    const dispatcher = fixture.transport.dispatcher.compose((dispatch) => (opts, handler) => {
      dispatched++;
      return dispatch(opts, handler);
    });
    const response = await apiFetch({ dispatcher })(`${fixture.api.origin}/me`);
    expect(response.status).toBe(200);
    expect(dispatched).toBe(1);
  });

  it("uses an injected fetch", async () => {
    const urls: string[] = [];
    const call = apiFetch({
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    });
    expect((await call(new URL(`${fixture.api.origin}/me`))).status).toBe(200);
    expect(urls).toEqual([`${fixture.api.origin}/me`]);
  });

  it("passes the caller's signal to token acquisition", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(apiFetch()(`${fixture.api.origin}/me`, { signal: controller.signal })).rejects.toThrow();
    expect(fixture.client.calls[0]?.signal).toBe(controller.signal);
    expect(fixture.api.seen).toHaveLength(0);
  });

  it("validates its options", () => {
    expect(() => createApiFetch({ client: {} as never, scopes: SCOPES })).toThrow(ConfigurationError);
    expect(() => createApiFetch({ client: fixture.client, scopes: [] })).toThrow(/^createApiFetch: 'scopes' must be a non-empty list/);
    expect(() => createApiFetch({ client: fixture.client, scopes: SCOPES, origins: ["not a url"] })).toThrow(/^createApiFetch: each of 'origins' must be an absolute/);
    expect(() => createApiFetch({ client: fixture.client, scopes: SCOPES, consent: { redirectUri: "/relative" } })).toThrow(ConfigurationError);
    expect(() => createApiFetch({ client: fixture.client, scopes: SCOPES, dispatcher: {} as never })).toThrow(/^createApiFetch: 'dispatcher' must be an undici Dispatcher/);
  });

  it("builds consent URLs that parse back", async () => {
    const error = (await apiFetch({ consent: { redirectUri: "https://daemon.example/cb" } })(`${fixture.api.origin}/graph-403`).catch(
      (reason: unknown) => reason,
    )) as ConsentRequiredError;
    const callback = new URL("https://daemon.example/cb?admin_consent=True&tenant=8f0a8c2e-0000-4000-8000-000000000000");
    expect(parseAdminConsentCallback(callback)).toEqual({ granted: true, tenant: "8f0a8c2e-0000-4000-8000-000000000000", state: undefined });
    expect(new URL(error.adminConsentUrl).searchParams.get("redirect_uri")).toBe(`${callback.origin}${callback.pathname}`);
  });
});

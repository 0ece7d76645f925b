// Issue #12, attacked as a hostile or broken server would: real HTTP servers on loopback,
// a second host on 127.0.0.2 for redirect targets (Linux routes 127.0.0.0/8 to lo), and
// the client in its default configuration (no transport: the runtime's fetch).
import { afterEach, describe, expect, it } from "vitest";
import {
  createDaemonClient,
  DaemonAuthError,
  InvalidResponseError,
  ServerError,
  type ClientCredential,
  type DaemonClientOptions,
  type HttpTransport,
} from "../src/index.js";
import { discoverMetadata, parseErrorResponse, refuseRedirect } from "../src/protocol.js";
import { testSecret } from "./support/credentials.js";
import { expectNoneOf } from "./support/leaks.js";
import { json, startTokenServer, tokenReply, type Reply, type SeenRequest } from "./support/token-server.js";

const SCOPE = "api://orders/.default";
const TENANT = "22222222-2222-2222-2222-222222222222";
const CLIENT_ID = "11111111-1111-1111-1111-111111111111";
const SECRET = "hostile~S3CRET.value-9d2f71c4e0ab";
const ASSERTION = "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJob3N0aWxlIn0.c2lnbmF0dXJlLW9mLWFuLWFzc2VydGlvbg";
const LETTERED_GUID = "aaaabbbb-cccc-dddd-eeee-ffff00001111";
const TRACE_GUID = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0";

type Server = Awaited<ReturnType<typeof startTokenServer>>;
let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function server(reply: Reply, host?: string): Promise<Server> {
  const started = await startTokenServer(reply, host === undefined ? {} : { host });
  servers.push(started);
  return started;
}

function entraClient(url: string, options: Partial<DaemonClientOptions> = {}) {
  return createDaemonClient({
    authority: `${url}/${TENANT}`,
    clientId: CLIENT_ID,
    credential: testSecret(SECRET),
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 },
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<DaemonAuthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DaemonAuthError);
  return error as DaemonAuthError;
}

describe("redirects are never followed", () => {
  it.each([307, 308])("a token endpoint answering %i to another host does not get the form re-sent there", async (status) => {
    const thief = await server(tokenReply(), "127.0.0.2");
    const endpoint = await server((_request, response) => {
      response.writeHead(status, { location: `${thief.url}/steal/${SECRET}?secret=${SECRET}` }).end();
    });
    const error = await failure(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toContain(`host '${new URL(thief.url).host}'`);
    expect(error.message).toMatch(/does not redirect/);
    expect(error.message).not.toContain("steal");
    expectNoneOf([SECRET], error);
    expect(thief.requests).toHaveLength(0);
    // Not retried: a redirect is no transient fault.
    expect(endpoint.tokenRequests).toHaveLength(1);
  });

  it.each([301, 302, 303])("a token endpoint answering %i does not yield a token minted by another host", async (status) => {
    const other = await server(tokenReply(), "127.0.0.2");
    const endpoint = await server((_request, response) => {
      response.writeHead(status, { location: `${other.url}/token` }).end();
    });
    const error = await failure(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toContain(new URL(other.url).host);
    expect(other.requests).toHaveLength(0);
  });

  it("refuses a redirect through any fetch-shaped transport: core asks for redirect 'manual' and checks the answer", async () => {
    const other = await server(tokenReply(), "127.0.0.2");
    const endpoint = await server((_request, response) => {
      response.writeHead(307, { location: `${other.url}/token` }).end();
    });
    const seen: (string | undefined)[] = [];
    const transport: HttpTransport = (url, init) => {
      seen.push(init.redirect);
      return fetch(url, init);
    };
    const error = await failure(entraClient(endpoint.url, { transport }).acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(seen).toEqual(["manual"]);
    expect(other.requests).toHaveLength(0);
  });

  it("refuses the opaque redirect that fetch returns in browsers and edge runtimes (status 0)", async () => {
    const opaque = { type: "opaqueredirect", status: 0, headers: new Headers(), body: null } as unknown as Response;
    const error = await failure(refuseRedirect(opaque, "https://login.example.com/t/oauth2/v2.0/token", "token endpoint"));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toMatch(/redirect \(HTTP 0\).*does not redirect/);
  });

  it("refuses discovery through a redirect, so a document elsewhere cannot name where the credential goes", async () => {
    const elsewhere = await server((request, response) =>
      request.method === "GET"
        ? json(response, 200, { issuer: `${issuer.url}/realm`, token_endpoint: `${elsewhere.url}/token` })
        : tokenReply()(request, response),
    "127.0.0.2");
    const issuer = await server((request, response) => {
      response.writeHead(302, { location: `${elsewhere.url}${request.path}` }).end();
    });
    const client = createDaemonClient({ issuer: `${issuer.url}/realm`, clientId: "svc", credential: testSecret(SECRET) });
    const error = await failure(client.acquireTokenForClient({ scopes: ["read"] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toMatch(/discovery document .*redirect \(HTTP 302\) to host '127\.0\.0\.2:\d+'/);
    expect(elsewhere.requests).toHaveLength(0);
    expect(issuer.tokenRequests).toHaveLength(0);
  });
});

describe("discovery trusts only the issuer's origin, and the exact issuer", () => {
  function issuerServer(document: (url: string) => Record<string, unknown>) {
    return server((request, response) =>
      request.method === "GET" ? json(response, 200, document(serverUrl)) : tokenReply()(request, response),
    ).then((started) => {
      serverUrl = started.url;
      return started;
    });
  }
  let serverUrl = "";

  it("refuses a token_endpoint on another host, and sends it nothing", async () => {
    const other = await server(tokenReply(), "127.0.0.2");
    const issuer = await issuerServer((url) => ({ issuer: `${url}/realm`, token_endpoint: `${other.url}/token` }));
    const client = createDaemonClient({ issuer: `${issuer.url}/realm`, clientId: "svc", credential: testSecret(SECRET) });
    const error = await failure(client.acquireTokenForClient({ scopes: ["read"] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toContain(`token endpoint on ${other.url}, not on the issuer's origin ${issuer.url}`);
    expect(error.message).toMatch(/configure that origin as the issuer/);
    expect(other.requests).toHaveLength(0);
  });

  it("refuses a token_endpoint on another port of the same host", async () => {
    const other = await server(tokenReply());
    const issuer = await issuerServer((url) => ({ issuer: url, token_endpoint: `${other.url}/token` }));
    const client = createDaemonClient({ issuer: issuer.url, clientId: "svc", credential: testSecret(SECRET) });
    await expect(client.acquireTokenForClient({ scopes: ["read"] })).rejects.toThrow(InvalidResponseError);
    expect(other.requests).toHaveLength(0);
  });

  it("refuses a document whose issuer differs from the configured one by a trailing slash (RFC 8414 §3.3)", async () => {
    const issuer = await issuerServer((url) => ({ issuer: `${url}/realm/`, token_endpoint: `${url}/realm/token` }));
    const client = createDaemonClient({ issuer: `${issuer.url}/realm`, clientId: "svc", credential: testSecret(SECRET) });
    const error = await failure(client.acquireTokenForClient({ scopes: ["read"] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toMatch(/declares issuer '.*\/realm\/', not '.*\/realm'.*character for character/);
    expect(issuer.tokenRequests).toHaveLength(0);
  });

  it("accepts a document whose issuer is identical to the configured one, case and trailing slash included", async () => {
    const issuer = await issuerServer((url) => ({ issuer: `${url.replace("http:", "HTTP:")}/Realm/`, token_endpoint: `${url}/Realm/token` }));
    const configured = `${issuer.url.replace("http:", "HTTP:")}/Realm/`;
    const client = createDaemonClient({ issuer: configured, clientId: "svc", credential: testSecret(SECRET) });
    await expect(client.acquireTokenForClient({ scopes: ["read"] })).resolves.toMatchObject({ source: "network" });
    expect(issuer.requests.find((request) => request.method === "GET")?.path).toBe("/Realm/.well-known/openid-configuration");
    expect(issuer.tokenRequests.map((request) => request.path)).toEqual(["/Realm/token"]);
  });

  it("returns token_endpoint_auth_methods_supported, validated, for the client to choose the method", async () => {
    const issuer = await issuerServer((url) => ({
      issuer: url,
      token_endpoint: `${url}/token`,
      token_endpoint_auth_methods_supported: ["client_secret_basic", "private_key_jwt", "client_secret_basic"],
    }));
    const metadata = await discoverMetadata(issuer.url, fetch, 5_000, new AbortController().signal);
    expect(metadata).toEqual({
      issuer: issuer.url,
      tokenEndpoint: `${issuer.url}/token`,
      authMethods: ["client_secret_basic", "private_key_jwt"],
    });
  });

  it("refuses a malformed token_endpoint_auth_methods_supported", async () => {
    const issuer = await issuerServer((url) => ({
      issuer: url,
      token_endpoint: `${url}/token`,
      token_endpoint_auth_methods_supported: "client_secret_basic",
    }));
    await expect(discoverMetadata(issuer.url, fetch, 5_000, new AbortController().signal)).rejects.toThrow(
      /malformed 'token_endpoint_auth_methods_supported'/,
    );
  });
});

/** A server echoing the request into every field of an OAuth error response. */
function echoingError(request: SeenRequest, response: Parameters<Reply>[1]): void {
  const raw = request.form.toString();
  const echoed = [request.form.get("client_secret"), request.form.get("client_assertion"), request.headers.authorization, raw]
    .filter(Boolean)
    .join(" ");
  json(response, 401, {
    error: request.form.get("client_secret") ?? request.form.get("client_assertion") ?? "invalid_client",
    error_description: `AADSTS7000215: Invalid client secret provided: ${echoed}\r\nTrace ID: x`,
    error_codes: [7000215],
    trace_id: echoed,
    correlation_id: request.form.get("client_secret") ?? request.headers.authorization,
    timestamp: echoed,
    error_uri: `https://login.example.com/error?input=${encodeURIComponent(raw)}`,
  });
}

describe("nothing a server echoes carries a secret out", () => {
  it("redacts the client secret from every ServerError field: message, inspect, JSON and cause chain", async () => {
    const endpoint = await server(echoingError);
    const error = await failure(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(ServerError);
    const serverError = error as ServerError;
    expect(serverError.errorCodes).toEqual([7000215]);
    expect(serverError.errorDescription).toMatch(/^AADSTS7000215: Invalid client secret provided: \[redacted\]/);
    expect(serverError.traceId).toBeUndefined();
    expect(serverError.correlationId).toBeUndefined();
    expectNoneOf([SECRET], error);
  });

  it("redacts an echoed client_secret_basic Authorization header", async () => {
    const endpoint = await server(echoingError);
    const client = entraClient(endpoint.url, { tokenEndpointAuthMethod: "client_secret_basic" });
    const error = await failure(client.acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(ServerError);
    const basic = String(endpoint.tokenRequests[0]?.headers.authorization).replace(/^Basic /, "");
    expectNoneOf([SECRET, basic], error);
  });

  it("redacts an echoed client assertion", async () => {
    const assertion: ClientCredential = {
      kind: "assertion",
      getAuthentication: async () => ({ clientAssertion: ASSERTION }),
    };
    const endpoint = await server(echoingError);
    const error = await failure(entraClient(endpoint.url, { credential: assertion }).acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(ServerError);
    expectNoneOf([ASSERTION, ASSERTION.split(".")[1] as string], error);
  });

  it("keeps GUID trace and correlation ids, which support needs", async () => {
    const endpoint = await server((_request, response) =>
      json(response, 400, { error: "invalid_scope", error_codes: [70011], trace_id: TRACE_GUID, correlation_id: TRACE_GUID.toLowerCase() }),
    );
    const error = (await failure(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] }))) as ServerError;
    expect(error.traceId).toBe(TRACE_GUID);
    expect(error.correlationId).toBe(TRACE_GUID.toLowerCase());
    expect(error.message).toContain(`trace id ${TRACE_GUID}`);
  });

  it("a non-JSON answer echoing the form leaves no trace of it in the error or its cause", async () => {
    const endpoint = await server((request, response) => {
      const secret = request.form.get("client_secret") ?? "";
      response.writeHead(400, { "content-type": `text/plain; echo=${secret}` }).end(`${secret} ${request.form.toString()}`);
    });
    const error = await failure(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expectNoneOf([SECRET, SECRET.slice(0, 10)], error);
    expect(error.message).toContain("(HTTP 400, text/plain)");
  });

  it("parseErrorResponse applies the same rule to whoever builds the error", () => {
    const error = parseErrorResponse(
      { error: "invalid_client", error_description: `echo ${ASSERTION}`, trace_id: "not-a-guid" },
      401,
    ) as ServerError;
    expect(error.errorDescription).toBe("echo [redacted]");
    expect(error.traceId).toBeUndefined();
  });
});

describe("access tokens and token types", () => {
  it.each([
    ["CR/LF", "abc\r\nSet-Cookie: x=1"],
    ["a space", "abc def"],
    ["a quote", 'abc"def'],
    ["a comma", "abc,def"],
    ["non-ASCII", "abcé"],
    ["'=' inside", "ab=cd"],
  ])("refuses an access_token with %s, does not cache it, and never prints it", async (_name, token) => {
    let replies = 0;
    const endpoint = await server((request, response) => {
      replies += 1;
      if (replies === 1) return json(response, 200, { token_type: "Bearer", expires_in: 3599, access_token: token });
      return tokenReply()(request, response);
    });
    const client = entraClient(endpoint.url);
    const error = await failure(client.acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toMatch(/RFC 6750 b64token/);
    expectNoneOf([token], error);
    // Nothing was cached: the next call asks the server again and gets a valid token.
    const next = await client.acquireTokenForClient({ scopes: [SCOPE] });
    expect(next.source).toBe("network");
    expect(next.accessToken).not.toBe(token);
    expect(endpoint.tokenRequests).toHaveLength(2);
  });

  it("accepts b64token access tokens with padding, and Bearer in any case", async () => {
    const token = "eyJ0eXAiOiJKV1QifQ.eyJhIjoxfQ.c2ln-_~+/==";
    const endpoint = await server((_request, response) => json(response, 200, { token_type: "BEARER", expires_in: 3599, access_token: token }));
    await expect(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] })).resolves.toMatchObject({
      accessToken: token,
      tokenType: "Bearer",
    });
  });

  it("refuses another token type without naming what an echoing server put there", async () => {
    const endpoint = await server((request, response) =>
      json(response, 200, { token_type: request.form.get("client_secret"), expires_in: 3599, access_token: "abc" }),
    );
    const error = await failure(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] }));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toContain("'token_type' is not a supported type");
    expectNoneOf([SECRET], error);
  });
});

describe("expires_in from a broken server", () => {
  function lifetimeServer(raw: string) {
    return server((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(`{"token_type":"Bearer","access_token":"abc","expires_in":${raw}}`);
    });
  }

  it.each(["1e12", "1e308", '"999999999999"', "3599.7"])("keeps expiresOn a valid date for expires_in %s", async (raw) => {
    const endpoint = await lifetimeServer(raw);
    const result = await entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] });
    expect(Number.isFinite(result.expiresOn.getTime())).toBe(true);
    expect(Number.isFinite(result.refreshOn.getTime())).toBe(true);
    expect(result.expiresOn.getTime()).toBeGreaterThan(Date.now());
  });

  it.each(["-5", "0", "1e999", '"NaN"', '"1e12"', '"-1"', '" 60"', "null", "true", '"Infinity"'])(
    "refuses expires_in %s as an invalid response",
    async (raw) => {
      const endpoint = await lifetimeServer(raw);
      const error = await failure(entraClient(endpoint.url).acquireTokenForClient({ scopes: [SCOPE] }));
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect(error.message).toMatch(/'expires_in'/);
    },
  );
});

describe("tenants and scopes: one token per tenant and resource, however spelt", () => {
  it("treats tenant ids differing only by case as one tenant (one token request)", async () => {
    const endpoint = await server(tokenReply());
    const client = createDaemonClient({
      authorityHost: endpoint.url,
      tenantId: "CONTOSO.onmicrosoft.com",
      clientId: CLIENT_ID,
      credential: testSecret(SECRET),
    });
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: "contoso.ONMICROSOFT.com" });
    expect(second.accessToken).toBe(first.accessToken);
    expect(first.tenantId).toBe("contoso.onmicrosoft.com");
    const upper = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: LETTERED_GUID.toUpperCase() });
    const lower = await client.acquireTokenForClient({ scopes: [SCOPE], tenantId: LETTERED_GUID });
    expect(lower.accessToken).toBe(upper.accessToken);
    expect(endpoint.tokenRequests.map((request) => request.path)).toEqual([
      "/contoso.onmicrosoft.com/oauth2/v2.0/token",
      `/${LETTERED_GUID}/oauth2/v2.0/token`,
    ]);
  });

  it("accepts an authority and a tenantId that differ only by case", async () => {
    const endpoint = await server(tokenReply());
    const client = createDaemonClient({
      authority: `${endpoint.url}/Contoso.onmicrosoft.com`,
      tenantId: "contoso.onmicrosoft.com",
      clientId: CLIENT_ID,
      credential: testSecret(SECRET),
    });
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).resolves.toMatchObject({ tenantId: "contoso.onmicrosoft.com" });
  });

  it("treats URI scopes differing in scheme or host case as one scope, keeping the path's case", async () => {
    const endpoint = await server(tokenReply());
    const client = entraClient(endpoint.url);
    const first = await client.acquireTokenForClient({ scopes: ["HTTPS://Orders.Example.COM/Api/.default"] });
    const second = await client.acquireTokenForClient({ scopes: ["https://orders.example.com/Api/.default"] });
    expect(second.accessToken).toBe(first.accessToken);
    expect(endpoint.tokenRequests.map((request) => request.form.get("scope"))).toEqual(["https://orders.example.com/Api/.default"]);
  });

  it("turns a bare v1.0 resource ending in '/' into '<resource>//.default', as the README says", async () => {
    const endpoint = await server(tokenReply());
    const result = await entraClient(endpoint.url).acquireTokenForClient({ scopes: ["https://database.windows.net/"] });
    expect(result.scopes).toEqual(["https://database.windows.net//.default"]);
    expect(endpoint.tokenRequests[0]?.form.get("scope")).toBe("https://database.windows.net//.default");
  });
});

describe("generic scopes: one rule, hot or cold", () => {
  it("refuses scopes: ['a b'] whether or not ['a', 'b'] is cached", async () => {
    const issuer = await server((request, response) =>
      request.method === "GET"
        ? json(response, 200, { issuer: issuerUrl, token_endpoint: `${issuerUrl}/token` })
        : tokenReply()(request, response),
    );
    const issuerUrl = issuer.url;
    const client = createDaemonClient({ issuer: issuer.url, clientId: "svc", credential: testSecret(SECRET) });
    await expect(client.acquireTokenForClient({ scopes: ["a b"] })).rejects.toThrow(/not a valid OAuth 2.0 scope token/);
    await client.acquireTokenForClient({ scopes: ["a", "b"] });
    await expect(client.acquireTokenForClient({ scopes: ["a b"] })).rejects.toThrow(/not a valid OAuth 2.0 scope token/);
  });
});

describe("Entra's answer to a scope without /.default", () => {
  it("maps AADSTS1002012 to the '/.default' fix and remembers it as a configuration error", async () => {
    const endpoint = await server((_request, response) =>
      json(response, 400, {
        error: "invalid_scope",
        error_description:
          "AADSTS1002012: The provided value for scope User.Read is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
        error_codes: [1002012],
      }),
    );
    const client = entraClient(endpoint.url);
    const error = (await failure(client.acquireTokenForClient({ scopes: [SCOPE] }))) as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.mitigation).toMatch(/ending in '\/\.default'/);
    expect(error.message).toContain("AADSTS1002012");
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBe(error);
    expect(endpoint.tokenRequests).toHaveLength(1);
  });
});

// The client's token requests beside @azure/msal-node's, against one emulator over
// loopback: both clients' requests are recorded where they leave the library (our
// transport, msal-node's network module), and the emulator's own request log shows
// both were answered.
import { ConfidentialClientApplication, type INetworkModule, type NetworkResponse } from "@azure/msal-node";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDaemonClient, type ClientCredential, type CredentialContext, type DaemonClientOptions, type HttpTransport } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { mapStore } from "./support/map-store.js";

const SCOPE = `${ids.apiIdentifierUri}/.default`;

interface WireRequest {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly form: URLSearchParams;
}

let emulator: Emulator;
/** The emulator's OpenID configuration with https URLs, as msal-node insists on them. */
let authorityMetadata: string;
let ours: WireRequest[] = [];
let theirs: WireRequest[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  const metadata = await (await fetch(`${emulator.authority(ids.tenantId)}/v2.0/.well-known/openid-configuration`)).text();
  authorityMetadata = metadata.replaceAll(emulator.url, emulator.url.replace(/^http:/, "https:"));
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => {
  emulator.resetRequests();
  ours = [];
  theirs = [];
});

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** Our transport: global fetch, recording each token request as it leaves the client. */
const recordingTransport: HttpTransport = (url, init) => {
  if (init?.method === "POST") {
    ours.push({ url: new URL(url), headers: lowerCased(init.headers), form: new URLSearchParams(String(init.body)) });
  }
  return fetch(url, init);
};

/**
 * msal-node's network module, recording what it sends. msal-node refuses a non-https
 * authority, so it is given `https://` + the emulator's loopback host and this module
 * speaks plain http to the same host and port.
 */
const recordingNetwork: INetworkModule = {
  async sendGetRequestAsync<T>(url: string, options?: { headers?: Record<string, string> }): Promise<NetworkResponse<T>> {
    return send<T>(url, "GET", options?.headers, undefined);
  },
  async sendPostRequestAsync<T>(url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<NetworkResponse<T>> {
    theirs.push({ url: new URL(url), headers: lowerCased(options?.headers ?? {}), form: new URLSearchParams(options?.body ?? "") });
    return send<T>(url, "POST", options?.headers, options?.body);
  },
};

async function send<T>(url: string, method: string, headers: Record<string, string> | undefined, body: string | undefined): Promise<NetworkResponse<T>> {
  const response = await fetch(url.replace(/^https:/, "http:"), { method, headers: headers ?? {}, ...(body === undefined ? {} : { body }) });
  const answered: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    answered[name] = value;
  });
  return { status: response.status, headers: answered, body: (await response.json()) as T };
}

function msal(options: { clientCapabilities?: string[] } = {}) {
  const host = new URL(emulator.url).host;
  return new ConfidentialClientApplication({
    auth: {
      clientId: ids.daemonClientId,
      clientSecret: ids.daemonClientSecret,
      authority: `https://${host}/${ids.tenantId}`,
      knownAuthorities: [host],
      authorityMetadata,
      ...options,
    },
    system: { networkClient: recordingNetwork },
  });
}

function client(options: Partial<DaemonClientOptions> = {}) {
  return createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: testSecret(ids.daemonClientSecret),
    transport: recordingTransport,
    ...options,
  });
}

/** Where msal-node 7 puts a library parameter: a header, the form or the query string. */
function msalParameter(request: WireRequest, name: string): string | undefined {
  return request.headers[name.toLowerCase()] ?? request.form.get(name) ?? request.url.searchParams.get(name) ?? undefined;
}

describe("token requests beside msal-node's", () => {
  it("say the same about the library: SKU, version, OS, CPU and the Retry-After capability", async () => {
    await client().acquireTokenForClient({ scopes: [SCOPE] });
    await msal().acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([200, 200]);
    const [mine] = ours;
    const [reference] = theirs;
    // msal-node 7 sends these as form parameters; we send them as headers (as MSAL.NET
    // does), so a generic server's strict form parsing never sees them.
    for (const name of ["x-client-OS", "x-client-CPU", "x-ms-lib-capability"]) {
      expect(msalParameter(reference!, name), name).toBeDefined();
      expect(mine!.headers[name.toLowerCase()], name).toBe(msalParameter(reference!, name));
    }
    expect(mine!.headers["x-ms-lib-capability"]).toBe("retry-after, h429");
    expect(msalParameter(reference!, "x-client-SKU")).toBeDefined();
    expect(mine!.headers["x-client-sku"]).toBe("daemon-auth");
    expect(mine!.headers["x-client-ver"]).toMatch(/^\d+\.\d+\.\d+/);
    // No library header echoes the secret, and the secret travels only as client_secret.
    const everything = JSON.stringify({ headers: mine!.headers, query: [...mine!.url.searchParams] });
    expect(everything).not.toContain(ids.daemonClientSecret);
    expect(mine!.headers["return-client-request-id"]).toBeUndefined();
    expect(msalParameter(reference!, "return-client-request-id")).toBeUndefined();
  });

  it("asks for the client-request-id echo only when told to", async () => {
    await client({ returnClientRequestId: true }).acquireTokenForClient({ scopes: [SCOPE], correlationId: "corr-1" });
    expect(ours[0]?.headers["return-client-request-id"]).toBe("true");
    expect(ours[0]?.headers["client-request-id"]).toBe("corr-1");
  });

  it("asks for the echo per request too; a cache hit sends nothing and names no endpoint", async () => {
    const plain = client();
    const asked = await plain.acquireTokenForClient({ scopes: [SCOPE], correlationId: "corr-2", returnClientRequestId: true });
    const hit = await plain.acquireTokenForClient({ scopes: [SCOPE], returnClientRequestId: true });
    await plain.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    expect(ours.map((request) => request.headers["return-client-request-id"])).toEqual(["true", undefined]);
    expect(asked.tokenEndpoint).toBe(emulator.tokenEndpoint(ids.tenantId));
    expect([hit.source, hit.tokenEndpoint]).toEqual(["cache", undefined]);
    await expect(plain.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true, returnClientRequestId: "yes" as never })).rejects.toThrow(
      /'returnClientRequestId' must be true or false/,
    );
  });

  it("client capabilities: the same access_token.xms_cc as msal-node, merged into a claims challenge", async () => {
    const challenge = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
    const mine = client({ clientCapabilities: ["cp1"] });
    const reference = msal({ clientCapabilities: ["cp1"] });
    await mine.acquireTokenForClient({ scopes: [SCOPE] });
    await reference.acquireTokenByClientCredential({ scopes: [SCOPE] });
    await mine.acquireTokenForClient({ scopes: [SCOPE], claims: challenge });
    await reference.acquireTokenByClientCredential({ scopes: [SCOPE], claims: challenge });
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const claimsOf = (request: WireRequest | undefined) => JSON.parse(request?.form.get("claims") ?? "null") as { access_token: unknown };
    expect(claimsOf(ours[0])).toEqual({ access_token: { xms_cc: { values: ["cp1"] } } });
    // msal-node adds id_token defaults that have no meaning in this flow; access_token is what counts.
    expect(claimsOf(ours[0]).access_token).toEqual(claimsOf(theirs[0]).access_token);
    expect(claimsOf(ours[1])).toEqual({ access_token: { nbf: { essential: true, value: "1700000000" }, xms_cc: { values: ["cp1"] } } });
    expect(claimsOf(ours[1]).access_token).toEqual(claimsOf(theirs[1]).access_token);
  });

  it("capabilities alone keep tokens cacheable, as in msal-node; a challenge never comes from cache", async () => {
    const mine = client({ clientCapabilities: ["cp1"] });
    const reference = msal({ clientCapabilities: ["cp1"] });
    const first = await mine.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await mine.acquireTokenForClient({ scopes: [SCOPE] });
    await reference.acquireTokenByClientCredential({ scopes: [SCOPE] });
    const cached = await reference.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(second.source).toBe("cache");
    expect(second.accessToken).toBe(first.accessToken);
    expect(cached?.fromCache).toBe(true);
    expect([ours.length, theirs.length]).toEqual([1, 1]);
    const challenged = await mine.acquireTokenForClient({ scopes: [SCOPE], claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' });
    expect(challenged.source).toBe("network");
    expect(challenged.accessToken).not.toBe(first.accessToken);
    expect(ours).toHaveLength(2);
  });

  it("enableCae per request sends cp1 as msal-node's clientCapabilities do; CAE and plain tokens never share a key, not even in a shared store", async () => {
    const store = mapStore();
    const plain = client({ cache: store });
    const capable = client({ cache: store, clientCapabilities: ["cp1"] });
    await msal({ clientCapabilities: ["cp1"] }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    const cae = await plain.acquireTokenForClient({ scopes: [SCOPE], enableCae: true });
    const bare = await plain.acquireTokenForClient({ scopes: [SCOPE] });
    const claimsOf = (request: WireRequest | undefined) => JSON.parse(request?.form.get("claims") ?? "null") as { access_token: unknown } | null;
    expect(claimsOf(ours[0])?.access_token).toEqual(claimsOf(theirs[0])?.access_token);
    expect(claimsOf(ours[1])).toBeNull();
    expect(bare.accessToken).not.toBe(cae.accessToken);
    // Hits from each kind's own entry; a client declaring cp1 shares the CAE entry, not the plain one.
    expect((await plain.acquireTokenForClient({ scopes: [SCOPE], enableCae: true })).accessToken).toBe(cae.accessToken);
    expect((await capable.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).toBe(cae.accessToken);
    expect((await capable.acquireTokenForClient({ scopes: [SCOPE], enableCae: true })).accessToken).toBe(cae.accessToken);
    expect(ours).toHaveLength(2);
    expect(store.data.size).toBe(2);
    await expect(plain.acquireTokenForClient({ scopes: [SCOPE], enableCae: "yes" as never })).rejects.toThrow(/'enableCae' must be true or false/);
    await plain.dispose();
    await expect(plain.acquireTokenForClient({ scopes: [SCOPE], enableCae: true, forceRefresh: true })).rejects.toThrow(/disposed/);
  });

  it("extra query and body parameters reach the server; none can replace the client's own", async () => {
    await client({ extraQueryParameters: { dc: "ESTS-PUB-TEST" }, extraParameters: { fmi_path: "agents/a1" } }).acquireTokenForClient({ scopes: [SCOPE] });
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([200]);
    expect(ours[0]?.url.searchParams.get("dc")).toBe("ESTS-PUB-TEST");
    expect(ours[0]?.url.pathname).toBe(`/${ids.tenantId}/oauth2/v2.0/token`);
    expect(ours[0]?.form.get("fmi_path")).toBe("agents/a1");
    expect(ours[0]?.form.get("client_id")).toBe(ids.daemonClientId);
    for (const name of ["client_id", "client_secret", "client_assertion", "client_assertion_type", "grant_type", "scope", "claims", "Client_Secret"]) {
      expect(() => client({ extraParameters: { [name]: "x" } }), name).toThrow(/^createDaemonClient: 'extraParameters\.[^']+' would replace a parameter the client sets itself/);
      expect(() => client({ extraQueryParameters: { [name]: "x" } }), name).toThrow(
        /^createDaemonClient: 'extraQueryParameters\.[^']+' would replace a parameter the client sets itself/,
      );
    }
    expect(() => client({ extraParameters: { a: 1 as unknown as string } })).toThrow(/^createDaemonClient: 'extraParameters\.a' must be a string/);
  });

  it("the credential learns the client, the endpoint, the tenant and the challenge", async () => {
    const seen: CredentialContext[] = [];
    const credential: ClientCredential = {
      kind: "secret",
      async getAuthentication(context) {
        seen.push(context);
        return { clientSecret: ids.daemonClientSecret };
      },
    };
    const multi = client({ credential });
    await multi.acquireTokenForClient({ scopes: [SCOPE] });
    await multi.acquireTokenForClient({ scopes: [SCOPE], tenantId: ids.tenantDomain.toUpperCase(), claims: '{"access_token":{}}' });
    expect(seen.map(({ clientId, tokenEndpoint, tenantId, claims }) => ({ clientId, tokenEndpoint, tenantId, claims }))).toEqual([
      { clientId: ids.daemonClientId, tokenEndpoint: emulator.tokenEndpoint(ids.tenantId), tenantId: ids.tenantId, claims: undefined },
      {
        clientId: ids.daemonClientId,
        tokenEndpoint: emulator.tokenEndpoint(ids.tenantDomain),
        tenantId: ids.tenantDomain,
        claims: '{"access_token":{}}',
      },
    ]);
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([200, 200]);
  });
});

import type { ClientSecretCredentialOptions } from "@azure/identity";
import type { INetworkModule, NetworkResponse } from "@azure/msal-node";
import type { HttpTransport } from "@daemon-auth/core";

/** A token endpoint faked in-process, counting the token requests each client makes. */
export interface FakeNetwork {
  /** For daemon-auth: a fetch-shaped transport. */
  readonly transport: HttpTransport;
  /** For msal-node: `system.networkClient`. */
  readonly networkClient: INetworkModule;
  /** For @azure/identity: the pipeline's `httpClient`. */
  readonly httpClient: PipelineHttpClient;
  /** POSTs to a token endpoint so far (both clients). */
  readonly tokenRequests: number;
  /** Sets the counter back to zero. */
  reset(): void;
}

/** Options of {@link createFakeNetwork}. */
export interface FakeNetworkOptions {
  /**
   * Delay of each token response, in milliseconds, so concurrent callers really overlap.
   * @default 0
   */
  latencyMs?: number;
  /**
   * `refresh_in` of each token, in seconds, so the clients' proactive refresh comes due.
   * @default none
   */
  refreshInSeconds?: number;
}

/** The Azure SDK's `HttpClient`, as @azure/identity takes it. */
export type PipelineHttpClient = NonNullable<ClientSecretCredentialOptions["httpClient"]>;
type PipelineResponse = Awaited<ReturnType<PipelineHttpClient["sendRequest"]>>;

/** A JSON response as the Azure SDK pipeline hands it on. */
function pipelineResponse(request: PipelineResponse["request"], body: unknown): PipelineResponse {
  const headers = new Map([["content-type", "application/json"]]);
  return {
    request,
    status: 200,
    bodyAsText: JSON.stringify(body),
    headers: {
      get: (name) => headers.get(name.toLowerCase()),
      has: (name) => headers.has(name.toLowerCase()),
      set: (name, value) => void headers.set(name.toLowerCase(), String(value)),
      delete: (name) => void headers.delete(name.toLowerCase()),
      toJSON: () => Object.fromEntries(headers),
      [Symbol.iterator]: () => headers.entries(),
    },
  };
}

/** The access token every fake response carries: 1,200 bytes, about the size of an Entra app token. */
export const BENCH_ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.".padEnd(1_200, "x");

function tenantOf(url: string): string {
  return new URL(url).pathname.split("/")[1] ?? "common";
}

function openIdConfiguration(tenant: string): Record<string, unknown> {
  const base = `https://login.microsoftonline.com/${tenant}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  };
}

/** Instance discovery answer for the public cloud, as msal-node expects it. */
export const CLOUD_DISCOVERY_METADATA = JSON.stringify({
  tenant_discovery_endpoint: "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
  "api-version": "1.1",
  metadata: [
    {
      preferred_network: "login.microsoftonline.com",
      preferred_cache: "login.windows.net",
      aliases: ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
    },
  ],
});

/** Authority metadata of one tenant, so msal-node skips its discovery request. */
export function authorityMetadata(tenant: string): string {
  return JSON.stringify(openIdConfiguration(tenant));
}

/** Creates a {@link FakeNetwork}: no socket is opened. */
export function createFakeNetwork(options: FakeNetworkOptions = {}): FakeNetwork {
  const latencyMs = options.latencyMs ?? 0;
  const tokenBody = {
    token_type: "Bearer",
    expires_in: 3599,
    ext_expires_in: 3599,
    access_token: BENCH_ACCESS_TOKEN,
    ...(options.refreshInSeconds === undefined ? {} : { refresh_in: options.refreshInSeconds }),
  };
  const tokenJson = JSON.stringify(tokenBody);
  const discovery = (url: string): unknown =>
    url.includes("/discovery/instance") ? JSON.parse(CLOUD_DISCOVERY_METADATA) : openIdConfiguration(tenantOf(url));
  let tokenRequests = 0;
  const delay = (): Promise<void> =>
    latencyMs > 0 ? new Promise((resolve) => setTimeout(resolve, latencyMs)) : Promise.resolve();

  const transport: HttpTransport = async (url, init) => {
    if (init.method === "POST") tokenRequests += 1;
    await delay();
    const body = init.method === "POST" ? tokenBody : openIdConfiguration(tenantOf(url));
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  };

  const networkClient: INetworkModule = {
    async sendGetRequestAsync<T>(url: string): Promise<NetworkResponse<T>> {
      // Per-request authorities make msal-node discover each tenant once.
      return Promise.resolve({ headers: {}, body: discovery(url) as T, status: 200 });
    },
    async sendPostRequestAsync<T>(): Promise<NetworkResponse<T>> {
      tokenRequests += 1;
      await delay();
      // Parsed per response, as msal-node's own network client does: each token its own string.
      return { headers: {}, body: JSON.parse(tokenJson) as T, status: 200 };
    },
  };

  const httpClient: PipelineHttpClient = {
    async sendRequest(request) {
      if (request.method !== "POST") return pipelineResponse(request, discovery(request.url));
      tokenRequests += 1;
      await delay();
      return pipelineResponse(request, tokenBody);
    },
  };

  return {
    transport,
    networkClient,
    httpClient,
    get tokenRequests() {
      return tokenRequests;
    },
    reset() {
      tokenRequests = 0;
    },
  };
}

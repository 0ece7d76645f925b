import type { INetworkModule, NetworkResponse } from "@azure/msal-node";
import type { HttpTransport } from "@daemon-auth/core";

/** A token endpoint faked in-process, counting the token requests each client makes. */
export interface FakeNetwork {
  /** For daemon-auth: a fetch-shaped transport. */
  readonly transport: HttpTransport;
  /** For msal-node: `system.networkClient`. */
  readonly networkClient: INetworkModule;
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
}

const TOKEN_BODY = { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: "bench-access-token" };

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
  let tokenRequests = 0;
  const delay = (): Promise<void> =>
    latencyMs > 0 ? new Promise((resolve) => setTimeout(resolve, latencyMs)) : Promise.resolve();

  const transport: HttpTransport = async (url, init) => {
    if (init.method === "POST") tokenRequests += 1;
    await delay();
    const body = init.method === "POST" ? TOKEN_BODY : openIdConfiguration(tenantOf(url));
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  };

  const networkClient: INetworkModule = {
    async sendGetRequestAsync<T>(url: string): Promise<NetworkResponse<T>> {
      // Per-request authorities make msal-node discover each tenant once.
      const body: unknown = url.includes("/discovery/instance") ? JSON.parse(CLOUD_DISCOVERY_METADATA) : openIdConfiguration(tenantOf(url));
      return Promise.resolve({ headers: {}, body: body as T, status: 200 });
    },
    async sendPostRequestAsync<T>(): Promise<NetworkResponse<T>> {
      tokenRequests += 1;
      await delay();
      return { headers: {}, body: { ...TOKEN_BODY } as T, status: 200 };
    },
  };

  return {
    transport,
    networkClient,
    get tokenRequests() {
      return tokenRequests;
    },
    reset() {
      tokenRequests = 0;
    },
  };
}

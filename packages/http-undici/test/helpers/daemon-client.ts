import { ServerError, type AccessTokenResult, type AcquireTokenRequest, type DaemonClient, type HttpTransport } from "@daemon-auth/core";
import { CLIENT_SECRET } from "./servers.js";

/**
 * A minimal DaemonClient that gets real tokens from a real (loopback) token endpoint
 * through a real transport, with a one-entry cache: enough to drive the API helpers
 * until core's createDaemonClient lands. Records every request it was asked for.
 */
export class TestDaemonClient implements DaemonClient {
  readonly clientId = "11111111-2222-3333-4444-555555555555";
  readonly calls: AcquireTokenRequest[] = [];
  #cached: AccessTokenResult | undefined;

  constructor(
    private readonly tokenEndpoint: string,
    private readonly transport: HttpTransport,
    readonly tenantId = "contoso.onmicrosoft.com",
    private readonly secret = CLIENT_SECRET,
  ) {}

  async acquireTokenForClient(request: AcquireTokenRequest): Promise<AccessTokenResult> {
    this.calls.push(request);
    request.signal?.throwIfAborted();
    if (this.#cached && !request.forceRefresh && request.claims === undefined) return this.#cached;
    const form = new URLSearchParams({
      client_id: this.clientId,
      scope: request.scopes.join(" "),
      client_secret: this.secret,
      grant_type: "client_credentials",
    });
    if (request.claims !== undefined) form.set("claims", request.claims);
    const response = await this.transport(this.tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      signal: request.signal ?? new AbortController().signal,
    });
    const body = (await response.json()) as { access_token?: string; expires_in?: number; error?: string; error_codes?: number[] };
    if (!response.ok || body.access_token === undefined) {
      throw new ServerError({ status: response.status, error: body.error ?? "invalid_response", errorCodes: body.error_codes ?? [] });
    }
    const now = Date.now();
    this.#cached = {
      accessToken: body.access_token,
      tokenType: "Bearer",
      expiresOn: new Date(now + (body.expires_in ?? 3600) * 1000),
      refreshOn: new Date(now + 1_800_000),
      scopes: request.scopes,
      tenantId: request.tenantId ?? this.tenantId,
      source: "network",
      correlationId: crypto.randomUUID(),
    };
    return this.#cached;
  }

  clearCache(): void {
    this.#cached = undefined;
  }

  async dispose(): Promise<void> {}
}

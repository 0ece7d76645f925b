import type { AccessTokenResult, DaemonClient } from "@daemon-auth/core";

/** What one run of the daemon saw. */
export interface DaemonRun {
  readonly token: AccessTokenResult;
  readonly status: number;
  readonly body: unknown;
}

/**
 * The daemon's job: get an app-only token for the API and call it. The token comes
 * from the client's cache whenever it can.
 */
export async function callOrdersApi(client: DaemonClient, apiUrl: string, scope: string): Promise<DaemonRun> {
  const token = await client.acquireTokenForClient({ scopes: [scope] });
  const response = await fetch(`${apiUrl}/orders`, {
    headers: { authorization: `${token.tokenType} ${token.accessToken}`, accept: "application/json" },
  });
  const body: unknown = await response.json().catch(() => undefined);
  return { token, status: response.status, body };
}

/** The claims of a JWT, for display only: no signature check is implied. */
export function peekClaims(accessToken: string): Record<string, unknown> {
  const payload = accessToken.split(".")[1];
  if (!payload) return {};
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

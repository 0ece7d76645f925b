import { createUndiciTransport, type UndiciTransport } from "../../src/index.js";
import { TestDaemonClient } from "./daemon-client.js";
import { readBody, startHttpServer, startTokenServer, type Running, type TokenServer } from "./servers.js";

/** The claims an API under conditional access asks for. */
export const CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}},"xms_cc":{"values":["cp1"]}}';
/** Claims whose base64 and base64url forms differ (they contain `+`/`/` vs `-`/`_`). */
export const CLAIMS_URL = '{"access_token":{"acrs":{"essential":true,"value":"c1?>>"}}}';

export const GRAPH_DENIED = {
  error: {
    code: "Authorization_RequestDenied",
    message: "Insufficient privileges to complete the operation.",
    innerError: { "request-id": "6a1b2c3d-0000-4000-8000-000000000001", date: "2026-01-01T00:00:00" },
  },
};

/** What the API saw in one request. */
export interface ApiRequestRecord {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: string;
  readonly contentType: string | undefined;
}

/**
 * A loopback API with one behaviour per path:
 * - `/me`: 200 echoing what it saw;
 * - `/claims`, `/claims-url`: 401 with a claims challenge (base64 / base64url) unless the
 *   token was issued for those claims;
 * - `/bad-claims`: 401 with claims that are not base64 JSON;
 * - `/stale`: 401 for the first token it ever sees (as if revoked), 200 afterwards;
 * - `/always-401`: 401 without claims;
 * - `/graph-403`, `/scope-403`, `/other-403`, `/text-403`: refusals of several shapes.
 */
export interface ApiServer extends Running {
  readonly seen: ApiRequestRecord[];
}

export async function startApiServer(tokens: TokenServer): Promise<ApiServer> {
  const seen: ApiRequestRecord[] = [];
  let firstToken: string | undefined;
  const claimsOf = (authorization: string | undefined): string | undefined => {
    const index = Number(/^Bearer token-(\d+)$/.exec(authorization ?? "")?.[1] ?? 0) - 1;
    return tokens.requests[index]?.claims;
  };
  const running = await startHttpServer((req, res) => {
    void readBody(req).then((body) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const authorization = req.headers.authorization;
      seen.push({ path, authorization, body, contentType: req.headers["content-type"] });
      firstToken ??= authorization;
      const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(value));
      };
      switch (path) {
        case "/claims":
        case "/claims-url": {
          const wanted = path === "/claims" ? CLAIMS : CLAIMS_URL;
          if (claimsOf(authorization) === wanted) return json(200, { ok: true, body });
          const encoded = Buffer.from(wanted).toString(path === "/claims" ? "base64" : "base64url");
          return json(401, { error: "claims" }, {
            "www-authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${encoded}"`,
          });
        }
        case "/bad-claims":
          return json(401, {}, { "www-authenticate": 'Bearer error="insufficient_claims", claims="%%%not-base64%%%"' });
        case "/stale":
          if (authorization === firstToken) {
            return json(401, { error: "invalid_token" }, { "www-authenticate": 'Bearer realm="api", error="invalid_token", error_description="The token is revoked"' });
          }
          return json(200, { ok: true, body, contentType: req.headers["content-type"] });
        case "/always-401":
          return json(401, {}, { "www-authenticate": 'Bearer realm="api"' });
        case "/graph-403":
          return json(403, GRAPH_DENIED, { "request-id": "6a1b2c3d-0000-4000-8000-000000000001" });
        case "/scope-403":
          return json(403, {}, { "www-authenticate": 'Bearer realm="api", error="insufficient_scope", error_description="missing role Orders.Read.All"' });
        case "/other-403":
          return json(403, { error: { code: "Forbidden_BlockedByPolicy", message: "nope" } });
        case "/text-403":
          res.writeHead(403, { "content-type": "text/plain" });
          return void res.end("Forbidden");
        default:
          return json(200, { ok: true, authorization, body });
      }
    });
  });
  return Object.assign(running, { seen });
}

/** A token server, a transport, a daemon client on them, and an API; all closed by `close`. */
export interface Fixture {
  readonly tokens: TokenServer;
  readonly transport: UndiciTransport;
  readonly client: TestDaemonClient;
  readonly api: ApiServer;
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const tokens = await startTokenServer();
  const transport = createUndiciTransport();
  const client = new TestDaemonClient(tokens.tokenEndpoint, transport);
  const api = await startApiServer(tokens);
  return {
    tokens,
    transport,
    client,
    api,
    close: async () => {
      await transport.dispose();
      await Promise.all([tokens.close(), api.close()]);
    },
  };
}

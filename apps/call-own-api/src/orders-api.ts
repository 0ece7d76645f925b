import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";

/** Options of {@link startOrdersApi}. */
export interface OrdersApiOptions {
  /** The token issuer the API trusts, e.g. `https://login.microsoftonline.com/<tenant id>/v2.0`. */
  issuer: string;
  /** Where the issuer publishes its signing keys. */
  jwksUri: string;
  /** The API's application ID URI (or client id): the `aud` tokens must carry. */
  audience: string;
  /** The app role a caller needs. @default "Orders.Read.All" */
  requiredRole?: string;
  /** @default 0 (a free port) */
  port?: number;
}

export interface OrdersApi {
  readonly url: string;
  close(): Promise<void>;
}

const ORDERS = [
  { id: "1001", item: "keyboard", quantity: 2 },
  { id: "1002", item: "monitor", quantity: 1 },
  { id: "1003", item: "cable", quantity: 12 },
];

/**
 * A protected web API: it accepts app-only bearer tokens from one issuer, checks
 * signature, issuer, audience and lifetime with `jose`, and requires an app role.
 * Answers like Entra-protected APIs do: 401 + `WWW-Authenticate` for a bad token,
 * 403 in the Microsoft Graph error shape when the role was not granted.
 */
export async function startOrdersApi(options: OrdersApiOptions): Promise<OrdersApi> {
  const requiredRole = options.requiredRole ?? "Orders.Read.All";
  const keys = createRemoteJWKSet(new URL(options.jwksUri));
  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, { error: { code: "InternalServerError", message: "Unexpected error." } });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "GET" || request.url !== "/orders") {
      send(response, 404, { error: { code: "NotFound", message: "Try GET /orders." } });
      return;
    }
    const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    if (!token) {
      challenge(response, undefined, "A bearer token is required.");
      return;
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ["RS256"],
      }));
    } catch (error) {
      const reason = error instanceof joseErrors.JOSEError ? error.code : "ERR_INVALID_TOKEN";
      challenge(response, "invalid_token", `The token was rejected (${reason}).`);
      return;
    }
    const roles = Array.isArray(claims["roles"]) ? (claims["roles"] as unknown[]) : [];
    if (claims["idtyp"] !== "app" || !roles.includes(requiredRole)) {
      send(response, 403, {
        error: {
          code: "Authorization_RequestDenied",
          message: `Insufficient privileges to complete the operation. The application needs the '${requiredRole}' app role (admin consent).`,
          innerError: { "request-id": crypto.randomUUID(), date: new Date().toISOString() },
        },
      });
      return;
    }
    send(response, 200, { value: ORDERS, caller: claims["azp"] ?? claims["appid"] });
  }

  function challenge(response: ServerResponse, error: string | undefined, description: string): void {
    const params = [`realm=""`, `authorization_uri="${options.issuer}"`];
    if (error) params.push(`error="${error}"`, `error_description="${description}"`);
    response.setHeader("www-authenticate", `Bearer ${params.join(", ")}`);
    send(response, 401, { error: { code: "InvalidAuthenticationToken", message: description } });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify(body));
}

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the test server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  form: URLSearchParams;
}

export type Reply = (request: SeenRequest, response: ServerResponse) => void | Promise<void>;

/**
 * A real HTTP server on loopback whose answers each test scripts. It stands in for
 * the token endpoint where a test needs exact control of the wire (retries, faults).
 * `host` puts it on another loopback address (Linux routes all of 127.0.0.0/8 to `lo`),
 * so a test has a second host, e.g. as a redirect target.
 */
export async function startTokenServer(reply: Reply, { host = "127.0.0.1" }: { host?: string } = {}) {
  const requests: SeenRequest[] = [];
  let current = reply;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const seen: SeenRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        form: new URLSearchParams(Buffer.concat(chunks).toString("utf8")),
      };
      requests.push(seen);
      Promise.resolve(current(seen, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    /** Token endpoint POSTs only. */
    get tokenRequests() {
      return requests.filter((r) => r.method === "POST");
    },
    setReply(next: Reply) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let issued = 0;

/** Answers with a fresh token every time. */
export function tokenReply(options: { expiresIn?: number; refreshIn?: number; delayMs?: number } = {}): Reply {
  return async (_request, response) => {
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    issued += 1;
    json(response, 200, {
      token_type: "Bearer",
      expires_in: options.expiresIn ?? 3599,
      ext_expires_in: options.expiresIn ?? 3599,
      access_token: `at-${issued}-${Math.random().toString(36).slice(2)}`,
      ...(options.refreshIn === undefined ? {} : { refresh_in: options.refreshIn }),
    });
  };
}

/** Answers with an Entra-shaped error. */
export function errorReply(status: number, error: string, code: number, headers: Record<string, string> = {}): Reply {
  return (_request, response) => {
    json(
      response,
      status,
      {
        error,
        error_description: `AADSTS${code}: test error. Trace ID: t Correlation ID: c Timestamp: 2026-01-01`,
        error_codes: [code],
        timestamp: "2026-01-01 00:00:00Z",
        trace_id: "trace-1",
        correlation_id: "corr-1",
      },
      headers,
    );
  };
}

export function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  response.end(text);
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

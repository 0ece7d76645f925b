// The HTTP(S) server under the pipeline: turns each Node request into an
// EmulatorRequest, writes the outcome back, and owns listening and closing.
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { cloudHost } from "../lib/cloud-hosts.js";
import type { Outcome } from "./answer.js";
import type { Handler } from "./pipeline.js";
import type { EmulatorRequest, RequestFacts } from "./request.js";

const MAX_BODY_BYTES = 1024 * 1024;

/** Options of {@link listen}. */
export interface ListenOptions {
  host: string;
  port: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls: { keyPem: string; certificatePem: string } | undefined;
  clock: () => number;
  handler: Handler;
}

/** A listening server. */
export interface ListeningServer {
  /** Base URL without trailing slash. */
  readonly baseUrl: string;
  /** Stops listening and closes every socket, keep-alive ones too. Safe to call twice. */
  close(): Promise<void>;
}

function formatHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function toEmulatorRequest(incoming: IncomingMessage, response: ServerResponse, baseUrl: string, scheme: string, now: number): EmulatorRequest {
  const url = new URL(incoming.url ?? "/", "http://emulator.invalid");
  const correlationHeader = incoming.headers["client-request-id"];
  // Over HTTPS a cloud's host name reaches the emulator only through a client's own name resolution.
  const cloud = scheme === "https" ? cloudHost(incoming.headers.host) : undefined;
  const facts: RequestFacts = cloud?.region === undefined ? {} : { region: cloud.region };
  let body: Promise<string | undefined> | undefined;
  return {
    method: incoming.method ?? "GET",
    pathname: url.pathname,
    segments: url.pathname.split("/").filter((segment) => segment !== "").map(safeDecode),
    query: url.searchParams,
    headers: incoming.headers,
    text: () => (body ??= readBody(incoming)),
    baseUrl: cloud === undefined ? baseUrl : `https://${incoming.headers.host ?? ""}`.toLowerCase(),
    issuerBase: cloud?.globalOrigin ?? baseUrl,
    region: cloud?.region,
    hostOrigin: incoming.headers.host === undefined ? undefined : `${scheme}://${incoming.headers.host}`,
    correlationId: typeof correlationHeader === "string" && correlationHeader !== "" ? correlationHeader : randomUUID(),
    now,
    clientLeft: new Promise((resolve) => response.once("close", () => resolve())),
    facts,
    note(learned) {
      for (const [name, value] of Object.entries(learned)) if (value !== undefined) Object.assign(facts, { [name]: value });
    },
  };
}

function write(incoming: IncomingMessage, response: ServerResponse, outcome: Outcome): void {
  if ("dropped" in outcome) {
    if (outcome.dropped === "reset") {
      try {
        incoming.socket.resetAndDestroy();
      } catch {
        // A TLS socket has no TCP handle of its own to reset: close it abruptly instead.
        incoming.socket.destroy();
      }
    } else {
      response.destroy();
    }
    return;
  }
  const length = outcome.chunked === true ? {} : { "Content-Length": Buffer.byteLength(outcome.body) };
  response.writeHead(outcome.status, { ...outcome.headers, ...length });
  response.end(outcome.body);
}

/** Starts the server and resolves once it listens. */
export async function listen(options: ListenOptions): Promise<ListeningServer> {
  const { host, port, tls } = options;
  const scheme = tls === undefined ? "http" : "https";
  let baseUrl = "";
  const onRequest = (incoming: IncomingMessage, response: ServerResponse): void => {
    const request = toEmulatorRequest(incoming, response, baseUrl, scheme, options.clock());
    options.handler(request).then(
      (outcome) => write(incoming, response, outcome),
      // The pipeline answers its own errors; this is the last guard against a hung client.
      () => response.destroy(),
    );
  };
  const server: Server = tls === undefined ? createHttpServer(onRequest) : createHttpsServer({ key: tls.keyPem, cert: tls.certificatePem }, onRequest);

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`Port ${port} on ${host} is in use; pass another port (CLI: --port) or 0 for a free one.`, { cause: error })
          : error,
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address !== null ? address.port : port;
  baseUrl = `${scheme}://${formatHost(host)}:${actualPort}`;

  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // close() waits for idle keep-alive sockets otherwise.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

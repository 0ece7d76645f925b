import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** A server listening on 127.0.0.1 with a free port, closed with every socket it holds. */
export interface Running {
  readonly port: number;
  readonly origin: string;
  /** `connection` events seen: one per TCP connection opened by a client. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** Starts `server` on 127.0.0.1:0 and tracks its sockets so close() never hangs on keep-alive. */
export async function listen(server: net.Server, scheme = "http"): Promise<Running> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  server.on("connection", (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // TLS servers report the raw TCP connection on the same event.
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    origin: `${scheme}://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads a request body to a string. */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** What the loopback token server saw in one token request. */
export interface TokenRequestRecord {
  readonly form: URLSearchParams;
  readonly claims: string | undefined;
}

/** A loopback OAuth 2.0 token endpoint that mints `token-<n>` and counts requests. */
export interface TokenServer extends Running {
  readonly tokenEndpoint: string;
  readonly requests: TokenRequestRecord[];
}

export async function startTokenServer(): Promise<TokenServer> {
  const requests: TokenRequestRecord[] = [];
  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      const form = new URLSearchParams(body);
      requests.push({ form, claims: form.get("claims") ?? undefined });
      if (form.get("client_secret") !== CLIENT_SECRET) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "invalid_client", error_codes: [7000215] }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ token_type: "Bearer", expires_in: 3599, access_token: `token-${requests.length}` }));
    });
  });
  const running = await listen(server);
  return Object.assign(running, { tokenEndpoint: `${running.origin}/tenant-1/oauth2/v2.0/token`, requests });
}

/** The secret the test daemon client sends; tests check it never leaks. */
export const CLIENT_SECRET = "s3cret-Value~never-log-me";

/** A self-signed certificate for `127.0.0.1`/`localhost`, made with openssl per run. */
export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

export async function createCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "http-undici-cert-"));
  try {
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
    return { key: await readFile(keyPath, "utf8"), cert: await readFile(certPath, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An HTTPS server with `cert` answering every request with `handler`. */
export async function startHttpsServer(cert: TestCertificate, handler: http.RequestListener): Promise<Running> {
  return listen(https.createServer({ key: cert.key, cert: cert.cert }, handler), "https");
}

/** An HTTP server answering every request with `handler`. */
export async function startHttpServer(handler: http.RequestListener): Promise<Running> {
  return listen(http.createServer(handler));
}

/** A forward proxy that only tunnels (CONNECT), recording each tunnel's target. */
export interface ConnectProxy extends Running {
  readonly tunnels: string[];
  readonly authorizations: (string | undefined)[];
}

export async function startConnectProxy(options: { requireAuthorization?: string } = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const upstreams = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? "");
    authorizations.push(req.headers["proxy-authorization"]);
    if (options.requireAuthorization !== undefined && req.headers["proxy-authorization"] !== options.requireAuthorization) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstreams.add(upstream);
    upstream.on("close", () => upstreams.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  const running = await listen(server);
  const closeServer = running.close;
  return Object.assign(running, {
    tunnels,
    authorizations,
    close: async () => {
      for (const upstream of upstreams) upstream.destroy();
      await closeServer();
    },
  });
}

import { inspect } from "node:util";
import { HttpError, type HttpRequestInit } from "@daemon-auth/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createUndiciTransport, type UndiciTransport } from "../src/index.js";
import {
  createCertificate,
  startConnectProxy,
  startHttpServer,
  startHttpsServer,
  type ConnectProxy,
  type Running,
  type TestCertificate,
} from "./helpers/servers.js";

const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"] as const;

function get(): HttpRequestInit {
  return { method: "GET", headers: {}, signal: new AbortController().signal };
}

/** One event-loop turn: undici reuses a keep-alive socket only after it (see transport.test.ts). */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Builds a transport while the proxy variables hold `env`, then restores them. */
function withEnvironment(env: Partial<Record<(typeof PROXY_VARIABLES)[number], string>>, make: () => UndiciTransport): UndiciTransport {
  const saved = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return make();
  } finally {
    for (const name of PROXY_VARIABLES) {
      const value = saved[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

let certificate: TestCertificate;
let plain: Running;
let secure: Running;
let other: Running;
let proxy: ConnectProxy;
const transports: UndiciTransport[] = [];

beforeAll(async () => {
  certificate = await createCertificate();
  plain = await startHttpServer((_req, res) => void res.end("plain"));
  other = await startHttpServer((_req, res) => void res.end("other"));
  secure = await startHttpsServer(certificate, (_req, res) => void res.end("secure"));
});

afterAll(async () => {
  await Promise.all([plain.close(), other.close(), secure.close()]);
});

beforeAll(async () => {
  proxy = await startConnectProxy();
});
afterAll(() => proxy.close());

afterEach(async () => {
  proxy.tunnels.length = 0;
  proxy.authorizations.length = 0;
  await Promise.all(transports.splice(0).map((transport) => transport.dispose()));
});

function keep(transport: UndiciTransport): UndiciTransport {
  transports.push(transport);
  return transport;
}

describe("createUndiciTransport through a CONNECT proxy", () => {
  it("tunnels http: and https: targets through an explicit proxy", async () => {
    const transport = keep(createUndiciTransport({ proxy: proxy.origin, ca: certificate.cert }));
    expect(await (await transport(`${plain.origin}/a`, get())).text()).toBe("plain");
    await turn();
    expect(await (await transport(`${plain.origin}/b`, get())).text()).toBe("plain");
    expect(await (await transport(`${secure.origin}/c`, get())).text()).toBe("secure");
    // One tunnel per origin: the tunnelled connections are kept alive like direct ones.
    expect(proxy.tunnels).toEqual([`127.0.0.1:${plain.port}`, `127.0.0.1:${secure.port}`]);
    expect(plain.connections() + secure.connections()).toBeGreaterThanOrEqual(2);
  });

  it("follows HTTP_PROXY/HTTPS_PROXY and honours NO_PROXY", async () => {
    const transport = keep(
      withEnvironment({ HTTP_PROXY: proxy.origin, HTTPS_PROXY: proxy.origin, NO_PROXY: `127.0.0.1:${other.port}` }, () =>
        createUndiciTransport({ ca: certificate.cert }),
      ),
    );
    expect(await (await transport(`${other.origin}/direct`, get())).text()).toBe("other");
    expect(proxy.tunnels).toEqual([]);
    expect(await (await transport(`${plain.origin}/proxied`, get())).text()).toBe("plain");
    expect(await (await transport(`${secure.origin}/proxied`, get())).text()).toBe("secure");
    expect(proxy.tunnels).toEqual([`127.0.0.1:${plain.port}`, `127.0.0.1:${secure.port}`]);
  });

  it("connects directly when no proxy variable is set, or with proxy: false", async () => {
    const fromEmptyEnv = keep(withEnvironment({}, () => createUndiciTransport()));
    expect(await (await fromEmptyEnv(`${plain.origin}/`, get())).text()).toBe("plain");
    const disabled = keep(withEnvironment({ HTTP_PROXY: proxy.origin }, () => createUndiciTransport({ proxy: false })));
    expect(await (await disabled(`${plain.origin}/`, get())).text()).toBe("plain");
    expect(proxy.tunnels).toEqual([]);
  });

  it("applies noProxy to an explicit proxy", async () => {
    const transport = keep(createUndiciTransport({ proxy: proxy.origin, noProxy: `127.0.0.1:${other.port}` }));
    expect(await (await transport(`${other.origin}/`, get())).text()).toBe("other");
    expect(await (await transport(`${plain.origin}/`, get())).text()).toBe("plain");
    expect(proxy.tunnels).toEqual([`127.0.0.1:${plain.port}`]);
  });
});

describe("createUndiciTransport with an authenticating proxy", () => {
  let guarded: ConnectProxy;
  const expected = `Basic ${Buffer.from("daemon:p@ss word").toString("base64")}`;

  beforeAll(async () => {
    guarded = await startConnectProxy({ requireAuthorization: expected });
  });
  afterAll(() => guarded.close());

  it("sends the credentials of the proxy URL", async () => {
    const url = new URL(guarded.origin);
    url.username = "daemon";
    url.password = "p@ss word";
    const transport = keep(createUndiciTransport({ proxy: url }));
    expect(await (await transport(`${plain.origin}/`, get())).text()).toBe("plain");
    expect(guarded.authorizations).toEqual([expected]);
  });

  it("reports a refused tunnel without the credentials", async () => {
    const url = new URL(guarded.origin);
    url.username = "daemon";
    url.password = "wrong-hunter2";
    const transport = keep(createUndiciTransport({ proxy: url }));
    const error = await transport(`${plain.origin}/`, get()).then(
      () => expect.unreachable(),
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(HttpError);
    expect((error as Error).message).toContain("proxy refused to open a tunnel");
    expect((error as Error).message).toContain("407");
    expect(`${String(error)} ${inspect(error, { depth: 6 })}`).not.toContain("hunter2");
  });
});

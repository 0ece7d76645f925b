import net from "node:net";
import { inspect } from "node:util";
import { gzipSync } from "node:zlib";
import { AbortError, ConfigurationError, HttpError, TimeoutError, type HttpRequestInit } from "@daemon-auth/core";
import { Agent } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createUndiciTransport, type UndiciTransport } from "../src/index.js";
import { CLIENT_SECRET, createCertificate, listen, readBody, startHttpServer, startHttpsServer, type Running, type TestCertificate } from "./helpers/servers.js";

const SECRET_BODY = `grant_type=client_credentials&client_id=app&client_secret=${encodeURIComponent(CLIENT_SECRET)}`;

function post(body = SECRET_BODY, signal = new AbortController().signal): HttpRequestInit {
  return { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body, signal };
}

function get(signal = new AbortController().signal): HttpRequestInit {
  return { method: "GET", headers: {}, signal };
}

/** Asserts the rejection is `type`, and that no secret from the request body leaks through it. */
async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => expect.unreachable("expected a rejection"),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(type);
  const printed = `${String(error)} ${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`;
  expect(printed).not.toContain(CLIENT_SECRET);
  expect(printed).not.toContain(encodeURIComponent(CLIENT_SECRET));
  return error as T;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

function track<T extends { close(): Promise<void> } | UndiciTransport>(resource: T): T {
  cleanup.push(() => ("dispose" in resource ? resource.dispose() : resource.close()));
  return resource;
}

describe("createUndiciTransport: responses", () => {
  let server: Running;
  const seen: { method: string; body: string; contentType: string | undefined }[] = [];

  beforeAll(async () => {
    server = await startHttpServer((req, res) => {
      void readBody(req).then((body) => {
        seen.push({ method: req.method ?? "", body, contentType: req.headers["content-type"] });
        if (req.url === "/empty") return void res.writeHead(204).end();
        if (req.url === "/gzip") {
          res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
          return void res.end(gzipSync(JSON.stringify({ zipped: true })));
        }
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        res.writeHead(200, "Fine", { "content-type": "application/json; charset=utf-8", "x-thing": "yes" });
        res.end(JSON.stringify({ access_token: "tok", expires_in: 3599, echo: body.length }));
      });
    });
  });
  afterAll(() => server.close());

  it("sends the request and returns a standard Response", async () => {
    const transport = track(createUndiciTransport());
    const response = await transport(`${server.origin}/token`, post());

    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.statusText).toBe("Fine");
    expect(response.url).toBe(`${server.origin}/token`);
    expect(response.headers).toBeInstanceOf(Headers);
    expect(response.headers.get("x-thing")).toBe("yes");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(response.bodyUsed).toBe(false);
    expect(await response.json()).toEqual({ access_token: "tok", expires_in: 3599, echo: SECRET_BODY.length });
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    expect(seen.at(-1)).toEqual({ method: "POST", body: SECRET_BODY, contentType: "application/x-www-form-urlencoded" });
  });

  it("offers every body reader, a stream and clone()", async () => {
    const transport = track(createUndiciTransport());
    const response = await transport(`${server.origin}/token`, get());
    const copy = response.clone();
    expect(copy.headers.get("x-thing")).toBe("yes");
    const text = await copy.text();
    expect(JSON.parse(text)).toMatchObject({ access_token: "tok" });
    const streamed = await new Response(response.body).text();
    expect(streamed).toBe(text);
    expect(response.bodyUsed).toBe(true);

    const other = await transport(`${server.origin}/token`, get());
    expect(new TextDecoder().decode(await other.clone().arrayBuffer())).toBe(text);
    expect(await (await other.clone().blob()).text()).toBe(text);
    expect((await other.clone().blob()).type).toBe("application/json; charset=utf-8");
  });

  it("gives a null body for 204 and decodes gzip like fetch", async () => {
    const transport = track(createUndiciTransport());
    const empty = await transport(`${server.origin}/empty`, get());
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect(await empty.text()).toBe("");

    const zipped = await transport(`${server.origin}/gzip`, get());
    expect(await zipped.json()).toEqual({ zipped: true });
  });

  it("reuses one keep-alive connection for sequential requests", async () => {
    const counted = track(await startHttpServer((_req, res) => void res.end("ok")));
    const transport = track(createUndiciTransport());
    for (let i = 0; i < 25; i++) {
      const response = await transport(`${counted.origin}/token`, post());
      expect(await response.text()).toBe("ok");
      // undici hands a socket back to the pool one event-loop turn after a response
      // ends (it first checks the server did not close it: GHSA-35p6-xmwp-9g52), and a
      // daemon does work between token requests; mimic that turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(counted.connections()).toBe(1);
  });

  it("keeps back-to-back requests on at most two pooled connections", async () => {
    const counted = track(await startHttpServer((_req, res) => void res.end("ok")));
    const transport = track(createUndiciTransport());
    for (let i = 0; i < 25; i++) await (await transport(`${counted.origin}/token`, post())).text();
    // Without a turn in between, the first socket is still being validated, so the pool
    // opens a second one; from then on the two alternate.
    expect(counted.connections()).toBeLessThanOrEqual(2);
  });
});

describe("createUndiciTransport: timeouts, limits and failures", () => {
  it("rejects with TimeoutError when the connection (TLS handshake) does not complete in connectTimeoutMs", async () => {
    // A TCP server that accepts but never answers the ClientHello: the connect phase
    // (TCP + TLS) cannot finish, which is what connectTimeoutMs bounds.
    const silent = track(await listen(net.createServer(() => {})));
    const transport = track(createUndiciTransport({ connectTimeoutMs: 150 }));
    const error = await rejection(transport(`https://127.0.0.1:${silent.port}/token`, post()), TimeoutError);
    expect(error.message).toMatch(/Connecting to https:\/\/127\.0\.0\.1:\d+\/token timed out after 150 ms/);
    expect(error.message).toContain("connectTimeoutMs");
    expect((error.cause as { code?: string }).code).toBe("UND_ERR_CONNECT_TIMEOUT");
  });

  it("rejects with TimeoutError when no headers arrive in headersTimeoutMs", async () => {
    const stuck = track(await startHttpServer(() => {}));
    const transport = track(createUndiciTransport({ headersTimeoutMs: 150 }));
    const error = await rejection(transport(`${stuck.origin}/token`, post()), TimeoutError);
    expect(error.message).toContain("sent no response headers within 150 ms");
    expect(error.message).toContain("headersTimeoutMs");
  });

  it("rejects with TimeoutError when the body stalls for bodyTimeoutMs", async () => {
    const stalling = track(
      await startHttpServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"access_token":"'); // and nothing more
      }),
    );
    const transport = track(createUndiciTransport({ bodyTimeoutMs: 150 }));
    const error = await rejection(transport(`${stalling.origin}/token`, post()), TimeoutError);
    expect(error.message).toContain("stopped sending its response body for 150 ms");
    expect(error.message).toContain("bodyTimeoutMs");
  });

  it("caps the response size, declared or streamed", async () => {
    const big = track(
      await startHttpServer((req, res) => {
        const body = "x".repeat(2048);
        if (req.url === "/declared") return void res.writeHead(200, { "content-length": body.length }).end(body);
        if (req.url === "/exact") return void res.end("y".repeat(1024));
        res.writeHead(200); // chunked, no length
        res.write("x".repeat(700));
        setTimeout(() => res.end("x".repeat(700)), 5);
      }),
    );
    const transport = track(createUndiciTransport({ maxResponseBytes: 1024 }));
    for (const path of ["/declared", "/chunked"]) {
      const error = await rejection(transport(`${big.origin}${path}`, get()), HttpError);
      expect(error.message).toContain("too large");
      expect(error.message).toContain("maxResponseBytes (1024 bytes)");
      expect(error.status).toBe(200);
    }
    expect((await (await transport(`${big.origin}/exact`, get())).text()).length).toBe(1024);
  });

  it("applies the cap to decompressed bytes (no zip bombs)", async () => {
    const bomb = track(
      await startHttpServer((_req, res) => {
        res.writeHead(200, { "content-encoding": "gzip" });
        res.end(gzipSync(Buffer.alloc(64 * 1024)));
      }),
    );
    const transport = track(createUndiciTransport({ maxResponseBytes: 4096 }));
    const error = await rejection(transport(`${bomb.origin}/`, get()), HttpError);
    expect(error.message).toContain("too large");
  });

  it("honours the caller's AbortSignal", async () => {
    const stuck = track(await startHttpServer(() => {}));
    const transport = track(createUndiciTransport());
    const controller = new AbortController();
    const pending = transport(`${stuck.origin}/token`, post(SECRET_BODY, controller.signal));
    setTimeout(() => controller.abort(), 20);
    await rejection(pending, AbortError);

    await rejection(transport(`${stuck.origin}/token`, post(SECRET_BODY, AbortSignal.abort())), AbortError);
    const timedOut = await rejection(transport(`${stuck.origin}/token`, post(SECRET_BODY, AbortSignal.timeout(20))), TimeoutError);
    expect(timedOut.message).toContain("timeout signal");
  });

  it("maps a refused connection to HttpError without the request body", async () => {
    const closed = await listen(net.createServer());
    await closed.close();
    const transport = track(createUndiciTransport());
    const error = await rejection(transport(`http://127.0.0.1:${closed.port}/token?sig=query-secret`, post()), HttpError);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).not.toContain("query-secret");
    expect(error.cause).toBeDefined();
  });

  it("rejects after dispose, and dispose is idempotent", async () => {
    const server = track(await startHttpServer((_req, res) => void res.end("ok")));
    const transport = createUndiciTransport();
    expect(await (await transport(`${server.origin}/`, get())).text()).toBe("ok");
    await transport.dispose();
    await transport.dispose();
    const error = await rejection(transport(`${server.origin}/`, get()), HttpError);
    expect(error.message).toContain("disposed");
  });
});

describe("createUndiciTransport: TLS and extra CAs", () => {
  let certificate: TestCertificate;
  let server: Running;

  beforeAll(async () => {
    certificate = await createCertificate();
    server = await startHttpsServer(certificate, (_req, res) => void res.end("secure"));
  });
  afterAll(() => server.close());

  it("refuses an untrusted certificate with a hint about ca", async () => {
    const transport = track(createUndiciTransport());
    const error = await rejection(transport(`${server.origin}/`, get()), HttpError);
    expect(error.message).toContain("TLS handshake");
    expect(error.message).toContain("ca option");
  });

  it("trusts a CA passed with ca, on top of the default store", async () => {
    const transport = track(createUndiciTransport({ ca: certificate.cert }));
    expect(await (await transport(`${server.origin}/`, get())).text()).toBe("secure");
    const asBytes = track(createUndiciTransport({ ca: [new TextEncoder().encode(certificate.cert)] }));
    expect(await (await asBytes(`${server.origin}/`, get())).text()).toBe("secure");
  });

  it("refuses a ca that is not PEM", () => {
    expect(() => createUndiciTransport({ ca: "MIIB..." })).toThrow(ConfigurationError);
    expect(() => createUndiciTransport({ ca: [] })).toThrow(/non-empty list/);
  });
});

describe("createUndiciTransport: injected dispatcher and configuration", () => {
  it("sends through an injected dispatcher and leaves it open on dispose", async () => {
    const server = track(await startHttpServer((_req, res) => void res.end("ok")));
    const agent = new Agent();
    cleanup.push(() => agent.close());
    let dispatched = 0;
    const counting = agent.compose((dispatch) => (opts, handler) => {
      dispatched++;
      return dispatch(opts, handler);
    });
    const transport = createUndiciTransport({ dispatcher: counting });
    expect(transport.dispatcher).toBe(counting);
    expect(await (await transport(`${server.origin}/`, get())).text()).toBe("ok");
    await transport.dispose();
    expect(agent.closed).toBe(false);
    expect(dispatched).toBe(1);
    expect(await (await createUndiciTransport({ dispatcher: agent })(`${server.origin}/`, get())).text()).toBe("ok");
  });

  it("refuses pool options next to an injected dispatcher", () => {
    const agent = new Agent();
    cleanup.push(() => agent.close());
    expect(() => createUndiciTransport({ dispatcher: agent, connections: 2, proxy: false })).toThrow(/^createUndiciTransport: 'connections', 'proxy' cannot be combined with 'dispatcher'/);
  });

  it("validates numbers and the proxy URL without echoing credentials", () => {
    expect(() => createUndiciTransport({ connectTimeoutMs: 0 })).toThrow(ConfigurationError);
    expect(() => createUndiciTransport({ headersTimeoutMs: -1 })).toThrow(/^createUndiciTransport: 'headersTimeoutMs' must be a positive number/);
    expect(() => createUndiciTransport({ bodyTimeoutMs: Number.NaN })).toThrow(ConfigurationError);
    expect(() => createUndiciTransport({ maxResponseBytes: 1.5 })).toThrow(/^createUndiciTransport: 'maxResponseBytes' must be a positive integer/);
    expect(() => createUndiciTransport({ connections: 0 })).toThrow(ConfigurationError);
    let error: unknown;
    try {
      createUndiciTransport({ proxy: "ftp://user:hunter2@proxy:21" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(`${String(error)} ${inspect(error)}`).not.toContain("hunter2");
    expect(() => createUndiciTransport({ proxy: "not a url hunter2" })).toThrow(/^createUndiciTransport: 'proxy' must be an absolute URL/);
  });

  it("prints without its dispatcher internals (proxy credentials)", async () => {
    const transport = createUndiciTransport({ proxy: "http://user:hunter2@127.0.0.1:9" });
    cleanup.push(() => transport.dispose());
    expect(String(transport)).toBe("UndiciTransport(explicit proxy)");
    expect(inspect(transport)).toBe("UndiciTransport(explicit proxy)");
    expect(JSON.stringify({ transport })).not.toContain("hunter2");
  });
});

describe("createUndiciTransport: non-final statuses", () => {
  it("rejects a status a Response cannot carry", async () => {
    const odd = track(
      await listen(
        net.createServer((socket) => {
          socket.once("data", () => socket.end("HTTP/1.1 999 Odd\r\ncontent-length: 0\r\n\r\n"));
        }),
      ),
    );
    const transport = track(createUndiciTransport());
    const error = await rejection(transport(`http://127.0.0.1:${odd.port}/`, get()), HttpError);
    expect(error.status).toBe(999);
  });
});


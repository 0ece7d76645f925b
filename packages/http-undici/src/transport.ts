import { readFileSync } from "node:fs";
import * as tls from "node:tls";
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { HttpError, redacted, type HttpRequestInit, type HttpTransport } from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import { Agent, EnvHttpProxyAgent, Pool, request, type Dispatcher } from "undici";
import { bufferedResponse } from "./lib/buffered-response.js";
import { tooLargeError, transportError, type TransportLimits } from "./lib/transport-errors.js";

/** Options of {@link createUndiciTransport}. */
export interface UndiciTransportOptions {
  /**
   * Time to open a connection (TCP, and the TLS handshake for `https:`), in milliseconds.
   * Not applied to an injected `dispatcher`.
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * Time to wait for the response headers once the request is sent, in milliseconds.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * Longest pause between two chunks of the response body, in milliseconds.
   * @default 10000
   */
  bodyTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection stays open when the server sends no
   * `Keep-Alive: timeout=` hint, in milliseconds. Not applied to an injected `dispatcher`.
   * @default 4000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Most connections per origin. Not applied to an injected `dispatcher`.
   * @default no limit
   */
  connections?: number;
  /**
   * Largest response body accepted, in bytes (after decompression); a larger one rejects
   * with an `HttpError` and is discarded. Token responses are a few KiB.
   * @default 1048576 (1 MiB)
   */
  maxResponseBytes?: number;
  /**
   * An HTTP(S) proxy for every request (`http://user:pass@proxy:3128`), or `false` to
   * connect directly. By default the environment decides: `HTTPS_PROXY` for `https:`
   * URLs, `HTTP_PROXY` for `http:` URLs (and for `https:` when `HTTPS_PROXY` is unset),
   * except for the hosts in `NO_PROXY`. Requests are tunnelled with `CONNECT`. The
   * environment is read once, when the transport is created.
   * @default from the environment
   */
  proxy?: string | URL | false;
  /**
   * Hosts that bypass the proxy, in `NO_PROXY` syntax (`localhost,.internal,10.0.0.1:8080`).
   * @default the `NO_PROXY` environment variable, or none with an explicit `proxy`
   */
  noProxy?: string;
  /**
   * An undici dispatcher to send requests through, so the application shares one pool.
   * The transport does not close it; the connection options above (`connectTimeoutMs`,
   * `keepAliveTimeoutMs`, `connections`, `proxy`, `noProxy`, `ca`) cannot be combined
   * with it, since they configure the pool the transport would create.
   * @default a keep-alive `Agent` (or a proxy agent) owned by the transport
   */
  dispatcher?: Dispatcher;
  /**
   * Extra trusted CA certificates (PEM), e.g. the emulator's or a TLS-inspecting proxy's.
   * They are added to the default trust store, not substituted for it.
   * @default none
   */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[];
}

/** A fetch-shaped {@link HttpTransport} over undici, with its pool. */
export interface UndiciTransport extends HttpTransport {
  /** The dispatcher requests go through: share it with `createApiFetch` or `undici.request`. */
  readonly dispatcher: Dispatcher;
  /** Closes the pool the transport created (an injected dispatcher is left open). Idempotent. */
  dispose(): Promise<void>;
}

/** Every option error of this module starts with `createUndiciTransport:`. */
const check = optionChecks("createUndiciTransport");

const DEFAULTS = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 4_000,
  maxResponseBytes: 1_048_576,
} as const;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A tuned HTTP transport for core's token requests: a keep-alive connection pool with
 * connect, headers and body timeouts, a response size cap, proxy support (explicit or
 * from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`) and extra CAs. Requests go through
 * `undici.request`; the buffered answer is handed back as a standard `Response`.
 *
 * Failures reject with core's errors: `TimeoutError` (connect, headers or body timeout),
 * `AbortError` (the signal fired), `HttpError` (network, TLS, proxy, size cap), with the
 * undici error as `cause`. Messages never include request headers or bodies.
 *
 * @throws {ConfigurationError} when an option is malformed.
 *
 * @example
 * const transport = createUndiciTransport({ connectTimeoutMs: 3000 });
 * const client = createDaemonClient({ tenantId, clientId, credential, transport });
 * // at shutdown
 * await client.dispose();
 * await transport.dispose();
 */
export function createUndiciTransport(options: UndiciTransportOptions = {}): UndiciTransport {
  const connectTimeoutMs = Math.ceil(check.milliseconds("connectTimeoutMs", options.connectTimeoutMs, DEFAULTS.connectTimeoutMs));
  const headersTimeoutMs = Math.ceil(check.milliseconds("headersTimeoutMs", options.headersTimeoutMs, DEFAULTS.headersTimeoutMs));
  const bodyTimeoutMs = Math.ceil(check.milliseconds("bodyTimeoutMs", options.bodyTimeoutMs, DEFAULTS.bodyTimeoutMs));
  const keepAliveTimeoutMs = Math.ceil(check.milliseconds("keepAliveTimeoutMs", options.keepAliveTimeoutMs, DEFAULTS.keepAliveTimeoutMs));
  const maxResponseBytes = check.positiveInteger("maxResponseBytes", options.maxResponseBytes, DEFAULTS.maxResponseBytes);
  const connections = options.connections === undefined ? undefined : check.positiveInteger("connections", options.connections, 1, { example: "16" });

  const owned = options.dispatcher === undefined;
  let dispatcher: Dispatcher;
  let description: string;
  if (options.dispatcher !== undefined) {
    const conflicting = (["connectTimeoutMs", "keepAliveTimeoutMs", "connections", "proxy", "noProxy", "ca"] as const).filter(
      (name) => options[name] !== undefined,
    );
    if (conflicting.length > 0) {
      throw check.error(
        `${conflicting.map((name) => `'${name}'`).join(", ")} cannot be combined with 'dispatcher': they configure the pool the transport would create. Configure them on your dispatcher instead.`,
      );
    }
    if (typeof options.dispatcher.dispatch !== "function") {
      throw check.error("'dispatcher' must be an undici Dispatcher (Agent, Pool, ProxyAgent, …).");
    }
    dispatcher = options.dispatcher;
    description = "injected dispatcher";
  } else {
    // One secure context for every connection: passing `ca` instead would make Node
    // parse the whole trust store again on each TLS handshake.
    const secureContext = options.ca === undefined ? undefined : tls.createSecureContext({ ca: trustStore(options.ca) });
    const tlsOptions = { timeout: connectTimeoutMs, ...(secureContext && { secureContext }) };
    const agentOptions = {
      connect: tlsOptions,
      headersTimeout: headersTimeoutMs,
      bodyTimeout: bodyTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      ...(connections !== undefined && { connections }),
    };
    const proxy = proxyUrl(options.proxy);
    const noProxy = options.noProxy;
    if (noProxy !== undefined && typeof noProxy !== "string") {
      throw check.error("'noProxy' must be a string in NO_PROXY syntax, such as \"localhost,.internal\".");
    }
    if (proxy === false || (proxy === undefined && !environmentHasProxy())) {
      dispatcher = new Agent(agentOptions);
      description = "direct";
    } else {
      dispatcher = new EnvHttpProxyAgent({
        ...agentOptions,
        // The tunnel's TLS and the proxy's own TLS get the same timeout and trust store.
        requestTls: tlsOptions,
        proxyTls: tlsOptions,
        // The CONNECT exchange with the proxy is bounded like any response's headers.
        clientFactory: (origin: URL, clientOptions: object) =>
          new Pool(origin, { ...clientOptions, headersTimeout: headersTimeoutMs, bodyTimeout: bodyTimeoutMs }),
        ...(proxy !== undefined && { httpProxy: proxy, httpsProxy: proxy, noProxy: noProxy ?? "" }),
        // Read NO_PROXY now, like the proxy variables: undici would re-read it per request.
        ...(proxy === undefined && { noProxy: noProxy ?? environmentNoProxy() }),
      });
      description = proxy === undefined ? "proxy from environment" : "explicit proxy";
    }
  }

  const limits: TransportLimits = { connectTimeoutMs: owned ? connectTimeoutMs : undefined, headersTimeoutMs, bodyTimeoutMs, maxResponseBytes };

  const send = async (url: string, init: HttpRequestInit): Promise<Response> => {
    let data: Dispatcher.ResponseData;
    try {
      data = await request(url, {
        dispatcher,
        method: init.method,
        headers: init.headers,
        body: init.body ?? null,
        signal: init.signal,
        headersTimeout: headersTimeoutMs,
        bodyTimeout: bodyTimeoutMs,
      });
    } catch (error) {
      throw transportError(error, url, init.signal, limits);
    }
    return toResponse(url, data, init.signal, limits);
  };

  let disposed: Promise<void> | undefined;
  const transport = Object.assign(send, {
    dispatcher,
    dispose: (): Promise<void> => (disposed ??= owned ? dispatcher.close() : Promise.resolve()),
  });
  // The dispatcher may hold proxy credentials; keep them out of logged options.
  return redacted(transport, `UndiciTransport(${description})`);
}

async function toResponse(url: string, data: Dispatcher.ResponseData, signal: AbortSignal, limits: TransportLimits): Promise<Response> {
  const { statusCode, headers } = data;
  if (statusCode < 200 || statusCode > 599) {
    discard(data.body);
    throw new HttpError(`${new URL(url).origin} answered with HTTP status ${statusCode}, which is not a valid final status. Check the URL.`, {
      status: statusCode,
    });
  }
  let bytes: Uint8Array | null = await readBody(url, data, signal, limits);
  const encoding = headers["content-encoding"];
  if (typeof encoding === "string" && bytes.byteLength > 0) bytes = decode(url, bytes, encoding, statusCode, limits);
  if (NULL_BODY_STATUS.has(statusCode)) bytes = null;

  const pairs: [string, string][] = [];
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === "string") pairs.push([name, value]);
    else if (Array.isArray(value)) for (const item of value) pairs.push([name, item]);
  }
  return bufferedResponse(bytes, statusCode, data.statusText, pairs, url);
}

function readBody(url: string, data: Dispatcher.ResponseData, signal: AbortSignal, limits: TransportLimits): Promise<Uint8Array> {
  const { body, headers, statusCode } = data;
  const declared = headers["content-length"];
  if (typeof declared === "string" && Number(declared) > limits.maxResponseBytes) {
    discard(body);
    return Promise.reject(tooLargeError(url, limits, statusCode));
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limits.maxResponseBytes) {
        body.destroy();
        reject(tooLargeError(url, limits, statusCode));
        return;
      }
      chunks.push(chunk);
    });
    body.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    body.on("error", (error: unknown) => reject(transportError(error, url, signal, limits)));
  });
}

/** Drops a body we will not read; undici reports its destruction as an error nobody needs. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => {});
  body.destroy();
}

/** Undoes `Content-Encoding` as `fetch` would, with the output capped like the body. */
function decode(url: string, bytes: Uint8Array, header: string, status: number, limits: TransportLimits): Uint8Array {
  const codings = header
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
  const zlibOptions = { maxOutputLength: limits.maxResponseBytes };
  try {
    for (const coding of codings.reverse()) {
      if (coding === "gzip" || coding === "x-gzip") bytes = gunzipSync(bytes, zlibOptions);
      else if (coding === "br") bytes = brotliDecompressSync(bytes, zlibOptions);
      else if (coding === "deflate") bytes = inflateDeflate(bytes, zlibOptions);
      else return bytes; // An unknown coding is handed over undecoded, as fetch does.
    }
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw tooLargeError(url, limits, status, error);
    throw new HttpError(`The response from ${new URL(url).origin} declares Content-Encoding ${header} but could not be decoded. Check the server or proxy.`, {
      status,
      cause: error,
    });
  }
  return bytes;
}

function inflateDeflate(bytes: Uint8Array, options: { maxOutputLength: number }): Uint8Array {
  // "deflate" is zlib-wrapped per RFC 9110, but some servers send raw deflate.
  try {
    return inflateSync(bytes, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw error;
    return inflateRawSync(bytes, options);
  }
}

function proxyUrl(proxy: string | URL | false | undefined): string | false | undefined {
  if (proxy === undefined || proxy === false) return proxy;
  let url: URL;
  try {
    url = new URL(proxy);
  } catch (cause) {
    // The value may hold proxy credentials: do not echo it.
    throw check.error("'proxy' must be an absolute URL such as http://proxy.internal:3128.", { cause: redactedCause(cause) });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw check.error("'proxy' must be an http: or https: URL such as http://proxy.internal:3128.");
  }
  return url.href;
}

function redactedCause(cause: unknown): string {
  return cause instanceof Error ? cause.name : "invalid URL";
}

function environmentNoProxy(): string {
  return process.env.no_proxy ?? process.env.NO_PROXY ?? "";
}

function environmentHasProxy(): boolean {
  const env = process.env;
  return Boolean(env.http_proxy || env.HTTP_PROXY || env.https_proxy || env.HTTPS_PROXY);
}

/** The default trust store plus `extra`: Node's `ca` option replaces the store otherwise. */
function trustStore(extra: string | Uint8Array | readonly (string | Uint8Array)[]): string[] {
  const list = typeof extra === "string" || extra instanceof Uint8Array ? [extra] : extra;
  if (!Array.isArray(list) || list.length === 0) {
    throw check.error("'ca' must be a PEM certificate (string or bytes) or a non-empty list of them.");
  }
  const pems = list.map((item: unknown) => {
    const pem = typeof item === "string" ? item : item instanceof Uint8Array ? Buffer.from(item).toString("utf8") : "";
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw check.error(
        "'ca' must hold PEM certificates (-----BEGIN CERTIFICATE-----). Convert a DER file with `openssl x509 -inform der -in ca.cer -out ca.pem`.",
      );
    }
    return pem;
  });
  return [...defaultCertificates(), ...pems];
}

function defaultCertificates(): string[] {
  // Node >= 22.15 exposes the effective default store (bundled + NODE_EXTRA_CA_CERTS + system).
  const getCACertificates = (tls as { getCACertificates?: (type?: string) => string[] }).getCACertificates;
  if (typeof getCACertificates === "function") return getCACertificates("default");
  const roots = [...tls.rootCertificates];
  const extraFile = process.env.NODE_EXTRA_CA_CERTS;
  if (extraFile) {
    try {
      roots.push(readFileSync(extraFile, "utf8"));
    } catch {
      // Node already warned at startup that the file is unreadable; keep the bundled roots.
    }
  }
  return roots;
}

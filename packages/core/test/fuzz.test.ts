// Bad input at every boundary of the client, generated with fast-check: configuration,
// requests (scopes, tenants, claims, signals), token endpoint responses and shared
// cache entries. Whatever comes in, only DaemonAuthError subclasses come out, nothing
// hangs, and neither the client secret nor an access token shows up in an error.
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDaemonClient,
  DaemonAuthError,
  type AccessTokenResult,
  type DaemonClientOptions,
  type HttpTransport,
  type TokenCacheStore,
} from "../src/index.js";
import { testSecret } from "./support/credentials.js";

const SECRET = "Qx8~fuzz.SECRET_value-4f2a9c7e1b3d5f60817a";
const TOKEN = "eyJhbGciOiJub25lIn0.eyJmdXp6Ijp0cnVlfQ.fuzz-access-token-7c1e";
const TENANT = "contoso.onmicrosoft.com";
const SCOPE = "api://orders/.default";
const CLIENT_ID = "11111111-1111-1111-1111-111111111111";
/** Any outcome must arrive within this; longer is a hang. */
const HANG_MS = 5_000;

/** Every value fast-check can make, the odd ones included (null prototypes, boxed values, sparse arrays). */
const anyValue = fc.oneof(
  fc.anything({
    maxDepth: 2,
    withNullPrototype: true,
    withBoxedValues: true,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withObjectString: true,
  }),
  fc.constant(Symbol("fuzz")),
  fc.constant(() => undefined),
);
const awkwardStrings = fc.constantFrom(
  "",
  " ",
  "common",
  "Organizations",
  "consumers",
  "__proto__",
  "toString",
  "constructor",
  "a..b",
  "-x.example.com",
  "x".repeat(300),
  "tenant\nid",
  "t%2Fx",
  "😀.example.com",
);
const urls = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true, withPort: true } }),
  fc.constantFrom(
    "http://localhost:1/tenant",
    "http://127.0.0.1/x/",
    "http://[::1]:8080/t",
    "http://example.com/t",
    "https://login.microsoftonline.com/common",
    "https://login.microsoftonline.com/",
    "https://a.example/b/oauth2/v2.0/token",
    "https://host/%E0%A4%A",
    "https://user:pw@host/t",
    "file:///etc/passwd",
    "javascript:alert(1)",
  ),
  fc.string(),
  anyValue,
);
const tenants = fc.oneof(fc.uuid(), fc.domain(), fc.string(), awkwardStrings, anyValue);
const numbers = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -1, 1, 0.5, 2 ** 31, 2 ** 53, 1e21, Number.MAX_VALUE, Infinity, -Infinity, Number.NaN),
  anyValue,
);

const fuzzOptions = fc.record(
  {
    authority: urls,
    tenantId: tenants,
    cloud: fc.oneof(fc.constantFrom("public", "usgov", "china", "__proto__", "toString", "constructor", "hasOwnProperty"), anyValue),
    authorityHost: urls,
    issuer: urls,
    clientId: fc.oneof(fc.uuid(), fc.string(), awkwardStrings, anyValue),
    credential: fc.oneof(anyValue, fc.array(anyValue, { maxLength: 2 })),
    tokenEndpointAuthMethod: fc.oneof(fc.constantFrom("client_secret_post", "client_secret_basic", "private_key_jwt"), anyValue),
    expiryMarginMs: numbers,
    requestTimeoutMs: numbers,
    retry: fc.oneof(fc.record({ maxAttempts: numbers, baseDelayMs: numbers, maxDelayMs: numbers }, { requiredKeys: [] }), anyValue),
    maxCachedTokens: numbers,
    errorCacheMs: numbers,
    cache: anyValue,
    transport: anyValue,
  },
  { requiredKeys: [] },
);

type Outcome = { ok: true; value: AccessTokenResult } | { ok: false; error: unknown };

/** Settles `run()`, failing the property when it neither resolves nor rejects in time. */
async function settle(run: () => Promise<AccessTokenResult>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no outcome within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([
      run().then(
        (value): Outcome => ({ ok: true, value }),
        (error: unknown): Outcome => ({ ok: false, error }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A typed error whose message is free of the secret and the token. With `everywhere`,
 * its full inspection (cause chain, fields) must be free of them too; a server that
 * echoes the secret back legitimately lands in `errorDescription`, so echo tests check
 * the message only.
 */
function expectTypedError(error: unknown, everywhere = true): void {
  if (!(error instanceof DaemonAuthError)) {
    throw new Error(`Expected a DaemonAuthError, got ${inspect(error)}`);
  }
  expect(error.code).toMatch(/^ERR_[A-Z_]+$/);
  expect(error.message.length).toBeGreaterThan(0);
  const outputs = everywhere ? [error.message, String(error), inspect(error, { depth: Infinity, showHidden: true })] : [error.message, String(error)];
  for (const output of outputs) {
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(encodeURIComponent(SECRET));
    expect(output).not.toContain(TOKEN);
  }
}

/** JSON of a generated value; one JSON cannot hold (a BigInt) is sent as `{}`. */
function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "{}";
  } catch {
    return "{}";
  }
}

function tokenResponse(overrides: Record<string, unknown> = {}): Response {
  return Response.json({ token_type: "Bearer", expires_in: 3599, access_token: TOKEN, ...overrides });
}

/** The client every acquisition test starts from: Entra authority, one attempt budget of 2, tiny delays. */
function baseOptions(transport: HttpTransport, extra: Partial<DaemonClientOptions> = {}): DaemonClientOptions {
  return {
    authority: `https://login.microsoftonline.com/${TENANT}`,
    clientId: CLIENT_ID,
    credential: testSecret(SECRET),
    transport,
    requestTimeoutMs: 1_000,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 20 },
    ...extra,
  };
}

describe("fuzz: client configuration", () => {
  it("createDaemonClient accepts or refuses any options with a typed error", () => {
    fc.assert(
      fc.property(fc.oneof(fuzzOptions, anyValue), (options) => {
        try {
          createDaemonClient(options as DaemonClientOptions);
        } catch (error) {
          expectTypedError(error);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a client that was accepted sends its token request to a sane URL, and fails only with typed errors", async () => {
    await fc.assert(
      fc.asyncProperty(fuzzOptions, async (fuzzed) => {
        const seen: string[] = [];
        const transport: HttpTransport = async (url, init) => {
          seen.push(url);
          new Headers(init.headers); // what fetch would refuse
          return init.method === "GET"
            ? Response.json({ issuer: new URL(url).href.replace(/\/\.well-known\/.*$/, ""), token_endpoint: `${new URL(url).origin}/token` })
            : tokenResponse();
        };
        // The transport answers at once, so fuzzed timeouts and retry settings cannot make a run slow.
        const { transport: _transport, cache: _cache, ...rest } = fuzzed;
        let client;
        try {
          client = createDaemonClient({ ...(rest as Partial<DaemonClientOptions>), credential: testSecret(SECRET), transport } as DaemonClientOptions);
        } catch (error) {
          expectTypedError(error);
          return;
        }
        const outcome = await settle(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
        if (!outcome.ok) expectTypedError(outcome.error);
        for (const url of seen) {
          const parsed = new URL(url);
          expect(["https:", "http:"]).toContain(parsed.protocol);
          if (parsed.protocol === "http:") expect(["localhost", "127.0.0.1", "[::1]"]).toContain(parsed.hostname);
          expect(parsed.username + parsed.password + parsed.search + parsed.hash).toBe("");
          expect(url).not.toMatch(/\[object |undefined|function /);
        }
        await client.dispose();
      }),
      {
        numRuns: 300,
        examples: [
          [{ clientId: CLIENT_ID, tenantId: TENANT, cloud: "__proto__" }],
          [{ clientId: CLIENT_ID, tenantId: TENANT, cloud: "toString" }],
          [{ clientId: CLIENT_ID, tenantId: TENANT, requestTimeoutMs: 1e20 }],
          [{ clientId: CLIENT_ID, tenantId: TENANT, requestTimeoutMs: 2 ** 33 }],
          [{ clientId: CLIENT_ID, authority: `https://login.microsoftonline.com/${TENANT}`, tenantId: Object.create(null) as unknown }],
          [{ clientId: CLIENT_ID, tenantId: TENANT, retry: { maxDelayMs: 1e20 } }],
        ],
      },
    );
  });
});

describe("fuzz: token requests", () => {
  const scopes = fc.oneof(
    fc.array(fc.oneof(fc.constantFrom(SCOPE, "https://graph.microsoft.com/.default", "https://db.windows.net/", "openid", "/.default", "a b/.default"), fc.string(), anyValue), { maxLength: 3 }),
    anyValue,
  );
  const request = fc.record(
    {
      scopes,
      tenantId: tenants,
      forceRefresh: fc.oneof(fc.boolean(), anyValue),
      claims: fc.oneof(fc.json(), fc.string(), anyValue),
      correlationId: fc.oneof(fc.uuid(), fc.string(), fc.constantFrom("a\r\nb", "é", "x".repeat(1000)), anyValue),
      signal: fc.oneof(fc.constant(AbortSignal.abort()), fc.constant(new AbortController().signal), anyValue),
    },
    { requiredKeys: [] },
  );

  for (const kind of ["entra", "generic"] as const) {
    it(`acquireTokenForClient (${kind}) answers any request with a token or a typed error`, async () => {
      const transport: HttpTransport = async (url, init) => {
        new Headers(init.headers);
        if (init.method === "GET") return Response.json({ issuer: "https://idp.example.com", token_endpoint: "https://idp.example.com/token" });
        return tokenResponse();
      };
      const { authority: _authority, ...generic } = baseOptions(transport);
      const client = createDaemonClient(kind === "generic" ? { ...generic, issuer: "https://idp.example.com" } : baseOptions(transport));
      await fc.assert(
        fc.asyncProperty(fc.oneof(request, anyValue), async (fuzzed) => {
          const outcome = await settle(() => client.acquireTokenForClient(fuzzed as never));
          if (outcome.ok) expect(outcome.value.accessToken).toBe(TOKEN);
          else expectTypedError(outcome.error);
        }),
        { numRuns: 300 },
      );
      await client.dispose();
    });
  }
});

describe("fuzz: token endpoint responses", () => {
  const headerValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("0", "1", "120", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT", "99999999999999999999"));
  const echo = fc.constantFrom(SECRET, encodeURIComponent(SECRET), `x ${SECRET} y`, TOKEN);
  const jsonish = fc.oneof(fc.string(), echo, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(fc.integer(), fc.string(), echo), { maxLength: 3 }));
  const tokenBody = fc.record(
    {
      token_type: fc.oneof(fc.constantFrom("Bearer", "bearer", "pop", "mac"), jsonish),
      expires_in: fc.oneof(fc.constantFrom(3599, "3599", 0, -5, 1e308, "1e3", " 60"), jsonish),
      refresh_in: fc.oneof(fc.constantFrom(100, "100", 10_000, -1), jsonish),
      access_token: fc.oneof(fc.constant(TOKEN), jsonish),
      error: fc.oneof(fc.constantFrom("invalid_client", "temporarily_unavailable", "invalid_grant", ""), jsonish),
      error_codes: fc.oneof(fc.array(fc.oneof(fc.constantFrom(7000215, 700027, 50196, 90055, 700016), fc.integer(), jsonish), { maxLength: 3 }), jsonish),
      error_description: jsonish,
      trace_id: jsonish,
      correlation_id: jsonish,
      timestamp: jsonish,
      error_uri: jsonish,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    tokenBody.map(jsonOf),
    fc.json(),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.constantFrom("", "null", "[]", "{", "<html><body>Bad gateway</body></html>", `{"access_token":"${TOKEN}"`, JSON.stringify({ error: SECRET }), "x".repeat(1024 * 1024 + 1)),
  );
  const reply = fc.record({
    status: fc.oneof(fc.constantFrom(200, 400, 401, 408, 429, 500, 501, 503, 504), fc.integer({ min: 200, max: 599 })),
    body,
    contentType: fc.oneof(fc.constantFrom("application/json", "application/json; charset=utf-8", "text/html", "text/plain"), headerValue),
    retryAfter: fc.option(headerValue),
    contentLength: fc.option(fc.constantFrom("0", "5", "99999999", "abc", "-1")),
  });

  function toResponse(answer: { status: number; body: string; contentType: string; retryAfter: string | null; contentLength: string | null }): Response {
    const headers = new Headers();
    const set = (name: string, value: string | null) => {
      try {
        if (value !== null) headers.set(name, value);
      } catch {
        // A value no real server could send (fetch refuses it); leave the header out.
      }
    };
    set("content-type", answer.contentType);
    set("retry-after", answer.retryAfter);
    set("content-length", answer.contentLength);
    const noBody = [204, 205, 304].includes(answer.status);
    return new Response(noBody ? null : answer.body, { status: answer.status, headers });
  }

  it("parses any response into a token or a typed error, within a bounded number of requests", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reply, { minLength: 1, maxLength: 3 }), async (replies) => {
        let calls = 0;
        const transport: HttpTransport = async () => toResponse(replies[Math.min(calls++, replies.length - 1)]!);
        const client = createDaemonClient(baseOptions(transport));
        const outcome = await settle(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
        if (outcome.ok) expect(outcome.value.accessToken.length).toBeGreaterThan(0);
        else expectTypedError(outcome.error, false);
        // Two attempts, twice when a rotation-type rejection makes the client reload the credential and retry once.
        expect(calls).toBeLessThanOrEqual(4);
        await client.dispose();
      }),
      {
        numRuns: 300,
        examples: [
          // Found by this test: an echoed secret in `error`, a Retry-After past what a Date holds.
          [[{ status: 401, body: JSON.stringify({ error: SECRET }), contentType: "application/json", retryAfter: null, contentLength: null }]],
          [[{ status: 500, body: "{}", contentType: "application/json", retryAfter: "99999999999999999999", contentLength: null }]],
          [[{ status: 200, body: JSON.stringify({ token_type: SECRET, expires_in: 60, access_token: TOKEN }), contentType: "application/json", retryAfter: null, contentLength: null }]],
        ],
      },
    );
  });

  it("maps a transport that throws anything to a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, fc.boolean(), async (thrown, synchronously) => {
        const transport = ((): Promise<Response> => {
          if (synchronously) throw thrown;
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a broken transport may reject with anything
          return Promise.reject(thrown);
        }) as HttpTransport;
        const client = createDaemonClient(baseOptions(transport));
        const outcome = await settle(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expectTypedError(outcome.error);
        await client.dispose();
      }),
      { numRuns: 200 },
    );
  });

  it("maps a transport that resolves a non-Response to a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, async (answer) => {
        const client = createDaemonClient(baseOptions((async () => answer) as unknown as HttpTransport));
        const outcome = await settle(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expectTypedError(outcome.error);
        await client.dispose();
      }),
      { numRuns: 200 },
    );
  });

  describe("over a real socket", () => {
    let server: Server;
    let next: Buffer = Buffer.alloc(0);
    let port = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        socket.on("error", () => undefined);
        socket.once("data", () => socket.end(next));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const rawResponse = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc
        .tuple(fc.integer({ min: 100, max: 999 }), fc.string({ maxLength: 20 }), fc.string({ unit: "binary", maxLength: 200 }))
        .map(([status, header, text]) => Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nX: ${header}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`, "latin1")),
      fc.constantFrom(
        Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":"),
        Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 20\r\nContent-Length: 30\r\n\r\n{}`),
      ),
    );

    it("maps malformed HTTP from a loopback server to typed errors", async () => {
      await fc.assert(
        fc.asyncProperty(rawResponse, async (bytes) => {
          next = bytes;
          const client = createDaemonClient({
            ...baseOptions(fetch),
            authority: `http://127.0.0.1:${port}/${TENANT}`,
            retry: { maxAttempts: 1 },
          });
          const outcome = await settle(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
          if (!outcome.ok) expectTypedError(outcome.error);
          await client.dispose();
        }),
        { numRuns: 60 },
      );
    });
  });
});

describe("fuzz: shared cache entries", () => {
  const now = () => Date.now();
  // Mostly well-formed entries with one or two fields off, so that the checks behind
  // the JSON shape (times that contradict each other, a foreign tenant) are reached.
  const mostly = <T,>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
  const time = mostly(
    fc.oneof(
      fc.integer({ min: -3_600_000, max: 7_200_000 }).map((offset) => now() + offset),
      fc.constantFrom(0, -1, Number.NaN, Infinity, 1e308, 8.64e15 + 1, "1700000000000"),
    ),
  );
  const entry = fc.record({
    v: mostly(fc.constant(1)),
    accessToken: mostly(fc.constant(TOKEN)),
    tokenType: mostly(fc.constant("Bearer")),
    expiresOn: time,
    refreshOn: time,
    usableUntil: time,
    scopes: mostly(fc.constantFrom([SCOPE], [SCOPE, SCOPE], ["api://other/.default"])),
    tenantId: mostly(fc.constantFrom(TENANT, "fabrikam.example.com")),
    correlationId: mostly(fc.uuid()),
  });
  const stored = fc.oneof(entry.map(jsonOf), fc.json(), fc.string(), fc.constant(undefined), anyValue);
  const storeOutcome = fc.oneof(
    { weight: 4, arbitrary: stored.map((value) => ({ resolve: value })) },
    { weight: 1, arbitrary: anyValue.map((value) => ({ reject: value })) },
  );
  // A busy lock (`undefined`) is not garbage: the client waits for the holder, as the lock tests check.
  const lockOutcome = fc.oneof(
    { weight: 6, arbitrary: fc.constant({ resolve: { release: () => Promise.resolve() } }) },
    { weight: 3, arbitrary: anyValue.filter((value) => value != null).map((value) => ({ resolve: value })) },
    { weight: 3, arbitrary: anyValue.map((value) => ({ reject: value })) },
  );

  const answer = (outcome: { resolve: unknown } | { reject: unknown }): Promise<never> =>
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a broken store may reject with anything
    "reject" in outcome ? Promise.reject(outcome.reject) : Promise.resolve(outcome.resolve as never);

  it("reads garbage from a store as a miss: a valid token or a typed error, never an expired or foreign token", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(storeOutcome, { minLength: 1, maxLength: 4 }), fc.option(lockOutcome), async (gets, lock) => {
        let reads = 0;
        const store: TokenCacheStore = {
          get: () => answer(gets[Math.min(reads++, gets.length - 1)]!),
          set: () => Promise.resolve(),
          delete: () => Promise.resolve(),
          ...(lock === null ? {} : { lock: () => answer(lock) }),
        };
        let requests = 0;
        const client = createDaemonClient(
          baseOptions(async () => {
            requests += 1;
            return tokenResponse({ access_token: `${TOKEN}-network` });
          }, { cache: store, requestTimeoutMs: 100 }),
        );
        const started = now();
        const outcome = await settle(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
        if (!outcome.ok) {
          expectTypedError(outcome.error);
          return;
        }
        const result = outcome.value;
        expect(result.scopes).toEqual([SCOPE]);
        expect(result.tenantId).toBe(TENANT);
        if (result.source === "shared-cache") {
          expect(result.accessToken).toBe(TOKEN);
          expect(result.expiresOn.getTime()).toBeGreaterThan(started);
          expect(result.refreshOn.getTime()).toBeLessThanOrEqual(result.expiresOn.getTime());
        } else {
          expect(result.accessToken).toBe(`${TOKEN}-network`);
          expect(requests).toBe(1);
        }
        await client.dispose();
      }),
      {
        numRuns: 300,
        examples: [
          // Found by this test: a refreshOn past expiresOn served an expired token as fresh.
          [[{ resolve: JSON.stringify({ v: 1, accessToken: TOKEN, tokenType: "Bearer", expiresOn: now() - 1000, refreshOn: 1e308, usableUntil: now(), scopes: [SCOPE], tenantId: TENANT, correlationId: "c" }) }], null],
          [[{ resolve: "{}" }], { resolve: () => undefined }],
        ],
      },
    );
  });
});

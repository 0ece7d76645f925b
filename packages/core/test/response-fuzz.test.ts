// Issue #12: generated token and error responses from a real loopback server, read by
// the client in its default configuration (the runtime's fetch). Every outcome is a
// token whose dates are valid, or a typed DaemonAuthError; no secret, assertion or
// refused access token appears anywhere in an error (message, fields, cause chain).
import { inspect } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDaemonClient, DaemonAuthError, type AccessTokenResult } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { expectNoneOf } from "./support/leaks.js";
import { startTokenServer, type Reply } from "./support/token-server.js";

const SECRET = "Fz7~resp.SECRET_value-0b9c8d7e6f5a4b3c2d1e";
const SCOPE = "api://orders/.default";
const TENANT = "33333333-3333-3333-3333-333333333333";
const CLIENT_ID = "11111111-1111-1111-1111-111111111111";
/** Put inside every generated access token, so a refused one can be searched for. */
const TOKEN_MARK = "Tk9MARKzq81";
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

let server: Awaited<ReturnType<typeof startTokenServer>>;
let reply: Reply = (_request, response) => {
  response.end();
};
beforeAll(async () => {
  server = await startTokenServer((request, response) => reply(request, response));
});
afterAll(async () => {
  await server.close();
});

function newClient() {
  return createDaemonClient({
    authority: `${server.url}/${TENANT}`,
    clientId: CLIENT_ID,
    credential: testSecret(SECRET),
    requestTimeoutMs: 2_000,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
  });
}

function expectTypedAndClean(error: unknown, extra: readonly string[] = []): void {
  if (!(error instanceof DaemonAuthError)) throw new Error(`Expected a DaemonAuthError, got ${inspect(error)}`);
  expect(error.code).toMatch(/^ERR_[A-Z_]+$/);
  expectNoneOf([SECRET, new URLSearchParams({ s: SECRET }).toString().slice(2), ...extra], error);
}

async function outcome(run: () => Promise<AccessTokenResult>): Promise<{ ok: true; value: AccessTokenResult } | { ok: false; error: unknown }> {
  return run().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** `expires_in` as raw JSON text, so that 1e999 (Infinity once parsed) and the like reach the client. */
const expiresIn = fc.oneof(
  fc.constantFrom("3599", "1", "0", "-5", "-0", "1e12", "1e308", "1e999", "-1e999", "3599.9", "0.2", "9007199254740993", '"3599"', '"1e12"', '"NaN"', '"Infinity"', '"-1"', '" 60"', '"60 "', '""', "null", "true", "[]", "{}"),
  fc.integer().map(String),
  fc.double().map((value) => (Number.isFinite(value) ? String(value) : JSON.stringify(String(value)))),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.string({ maxLength: 12 }).map((value) => JSON.stringify(value)),
);
const tokenType = fc.oneof(
  fc.constantFrom("Bearer", "bearer", "BEARER", "pop", "PoP", "DPoP", "mac", "N_A", "", SECRET, `Bearer ${SECRET}`),
  fc.string({ maxLength: 20 }),
);
/** Access tokens around the mark: valid b64tokens and every kind of character outside it. */
const accessToken = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(..."AZaz09-._~+/"), maxLength: 20 }),
    fc.oneof(
      fc.constant(""),
      fc.constantFrom("=", "==", "\r\n", "\n", " ", "\t", '"', ",", ";", "\\", "\u0000", "é", "\u2028", "=x", "%0d%0a"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 4 }),
    ),
  )
  .map(([base, tail]) => `${base}${TOKEN_MARK}${tail}`);

describe("fuzz: token response fields", () => {
  it("yields a token with valid dates and a b64token, or a typed error that shows neither the secret nor the refused token", async () => {
    await fc.assert(
      fc.asyncProperty(expiresIn, tokenType, accessToken, fc.option(expiresIn), async (expires, type, token, refresh) => {
        reply = (_request, response) => {
          response.writeHead(200, { "content-type": "application/json" });
          response.end(
            `{"access_token":${JSON.stringify(token)},"token_type":${JSON.stringify(type)},"expires_in":${expires}` +
              (refresh === null ? "}" : `,"refresh_in":${refresh}}`),
          );
        };
        const client = newClient();
        const before = Date.now();
        const result = await outcome(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
        if (result.ok) {
          const { expiresOn, refreshOn, accessToken: issued } = result.value;
          expect(Number.isFinite(expiresOn.getTime())).toBe(true);
          expect(Number.isFinite(refreshOn.getTime())).toBe(true);
          expect(expiresOn.getTime()).toBeGreaterThan(before - 1);
          expect(refreshOn.getTime()).toBeLessThanOrEqual(expiresOn.getTime());
          expect(issued).toMatch(B64TOKEN);
          expect(issued).toBe(token);
        } else {
          expectTypedAndClean(result.error, [TOKEN_MARK]);
        }
        await client.dispose();
      }),
      {
        numRuns: 250,
        examples: [
          ["1e12", "Bearer", `abc${TOKEN_MARK}`, null],
          ["1e308", "Bearer", `abc${TOKEN_MARK}`, "1e308"],
          ['"NaN"', "Bearer", `abc${TOKEN_MARK}`, null],
          ["-5", "Bearer", `abc${TOKEN_MARK}`, null],
          ["3599", "Bearer", `abc${TOKEN_MARK}\r\nx-injected: 1`, null],
          ["3599", SECRET, `abc${TOKEN_MARK}`, null],
        ],
      },
    );
  });
});

describe("fuzz: error response echo fields", () => {
  /** The secret as a server might echo it: raw, encoded, inside text, inside the echoed form. */
  const echo = fc.oneof(
    fc.constantFrom(
      SECRET,
      encodeURIComponent(SECRET),
      new URLSearchParams({ s: SECRET }).toString().slice(2),
      `client_secret=${encodeURIComponent(SECRET)}&client_id=${CLIENT_ID}`,
    ),
    fc.tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 })).map(([before, after]) => `${before}${SECRET}${after}`),
  );
  const field = fc.oneof(echo, fc.string({ maxLength: 40 }), fc.uuid(), fc.constant(undefined));
  const errorBody = fc.record(
    {
      error: fc.oneof(fc.constantFrom("invalid_client", "invalid_request", "temporarily_unavailable"), echo, fc.string({ maxLength: 20 })),
      error_description: field,
      error_codes: fc.array(fc.constantFrom(7000215, 70011, 1002012, 90002, 50196), { maxLength: 2 }),
      trace_id: field,
      correlation_id: field,
      timestamp: field,
      error_uri: field,
    },
    { requiredKeys: ["error"] },
  );

  it("whatever the server echoes into an error response, the error is typed and carries no secret anywhere", async () => {
    await fc.assert(
      fc.asyncProperty(errorBody, fc.constantFrom(400, 401, 403, 500, 503), fc.boolean(), async (body, status, echoWholeForm) => {
        reply = (request, response) => {
          const payload = echoWholeForm ? { ...body, error_description: `${String(body.error_description)} ${request.form.toString()}` } : body;
          response.writeHead(status, { "content-type": "application/json" });
          response.end(JSON.stringify(payload));
        };
        const client = newClient();
        const result = await outcome(() => client.acquireTokenForClient({ scopes: [SCOPE] }));
        expect(result.ok).toBe(false);
        if (!result.ok) expectTypedAndClean(result.error);
        await client.dispose();
      }),
      { numRuns: 200 },
    );
  });
});

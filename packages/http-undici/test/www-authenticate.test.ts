import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate, type WwwAuthenticateChallenge } from "../src/index.js";

/** Compares through a plain object: the parser's params have no prototype. */
function plain(challenges: WwwAuthenticateChallenge[]): unknown {
  return challenges.map((challenge) => ({ ...challenge, params: { ...challenge.params } }));
}

describe("parseWwwAuthenticate", () => {
  it("parses the RFC 9110 example: several challenges, escapes, mixed token and quoted values", () => {
    expect(plain(parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'))).toEqual([
      { scheme: "Newauth", params: { realm: "apps", type: "1", title: 'Login to "apps"' } },
      { scheme: "Basic", params: { realm: "simple" } },
    ]);
  });

  it("parses Entra's claims challenge", () => {
    const header =
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", ' +
      'client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", ' +
      'claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0="';
    expect(plain(parseWwwAuthenticate(header))).toEqual([
      {
        scheme: "Bearer",
        params: {
          realm: "",
          authorization_uri: "https://login.microsoftonline.com/common/oauth2/authorize",
          client_id: "00000003-0000-0000-c000-000000000000",
          error: "insufficient_claims",
          claims: "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=",
        },
      },
    ]);
  });

  it("parses token68 and bare schemes", () => {
    expect(plain(parseWwwAuthenticate("Basic YWxhZGRpbjpvcGVuc2VzYW1l"))).toEqual([
      { scheme: "Basic", params: {}, token68: "YWxhZGRpbjpvcGVuc2VzYW1l" },
    ]);
    expect(plain(parseWwwAuthenticate('Negotiate abc+/==, Bearer realm="x"'))).toEqual([
      { scheme: "Negotiate", params: {}, token68: "abc+/==" },
      { scheme: "Bearer", params: { realm: "x" } },
    ]);
    expect(plain(parseWwwAuthenticate("Negotiate, NTLM"))).toEqual([
      { scheme: "Negotiate", params: {} },
      { scheme: "NTLM", params: {} },
    ]);
    expect(plain(parseWwwAuthenticate("Bearer a=b"))).toEqual([{ scheme: "Bearer", params: { a: "b" } }]);
    // The grammar reads a lone `name=` as token68 padding, not as an empty parameter.
    expect(plain(parseWwwAuthenticate("Bearer realm=, Basic"))).toEqual([
      { scheme: "Bearer", params: {}, token68: "realm=" },
      { scheme: "Basic", params: {} },
    ]);
  });

  it("lower-cases parameter names, keeps the scheme, allows BWS and empty list elements", () => {
    expect(plain(parseWwwAuthenticate(' , ,BEARER  Realm = "a" ,, ERROR=invalid_token ,  ,Basic'))).toEqual([
      { scheme: "BEARER", params: { realm: "a", error: "invalid_token" } },
      { scheme: "Basic", params: {} },
    ]);
    expect(plain(parseWwwAuthenticate('Bearer\trealm="tab"'))).toEqual([{ scheme: "Bearer", params: { realm: "tab" } }]);
  });

  it("joins several header lines", () => {
    expect(plain(parseWwwAuthenticate(['Bearer realm="a"', "Basic"]))).toEqual([
      { scheme: "Bearer", params: { realm: "a" } },
      { scheme: "Basic", params: {} },
    ]);
  });

  it("undoes quoted-pair escapes", () => {
    expect(parseWwwAuthenticate(String.raw`X a="back\\slash \"q\" \x"`)[0]?.params.a).toBe('back\\slash "q" x');
  });

  it.each([
    ["", []],
    ["   ", []],
    ["=", []],
    ['"Bearer"', []],
    ["Bearer realm= =x", []],
    ["Bearer realm=;", []],
    ['Bearer realm="unterminated', []],
    ['Bearer realm="x" error="no comma"', []],
    ['Bearer realm="x", realm="twice"', []],
    ['Bearer realm="bad\u0001control"', []],
    ["Bearer realm=\"bad escape\\\u0001\"", []],
    ["Bearer ré=1", []],
    ["Bearer realm\u00e9", []],
  ] as const)("returns [] for garbage %j", (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  it("keeps the challenges completed before a syntax error", () => {
    expect(plain(parseWwwAuthenticate('Basic realm="ok", Bearer realm="broken'))).toEqual([{ scheme: "Basic", params: { realm: "ok" } }]);
  });

  it("accepts obs-text in quoted strings", () => {
    expect(parseWwwAuthenticate('Bearer realm="caf\u00e9"')[0]?.params.realm).toBe("caf\u00e9");
  });

  it("never returns prototype-polluting params", () => {
    const [challenge] = parseWwwAuthenticate('Bearer __proto__="x", constructor=y');
    expect(Object.keys(challenge!.params)).toEqual(["__proto__", "constructor"]);
    expect(challenge!.params.__proto__).toBe("x");
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("returns [] for input that is not a header value", () => {
    for (const value of [undefined, null, 42, {}, [1, 2], Symbol("x")]) {
      expect(parseWwwAuthenticate(value as never)).toEqual([]);
    }
  });
});

describe("parseWwwAuthenticate (property-based)", () => {
  const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
  // quoted-string content: printable ASCII (quotes and backslashes included) and obs-text.
  const quotable = fc.string({ unit: fc.constantFrom(..." !\"#\\abcXYZ019=,;/é\t".split("")), maxLength: 16 });
  const challenge = fc.record({
    scheme: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/),
    params: fc.uniqueArray(fc.tuple(token.map((name) => name.toLowerCase()), fc.oneof(token, quotable), fc.boolean()), {
      selector: ([name]) => name,
      maxLength: 4,
    }),
  });

  function serialize(name: string, value: string, quote: boolean): string {
    const needsQuotes = quote || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(value);
    return `${name}=${needsQuotes ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : value}`;
  }

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.string({ unit: fc.constantFrom(...' ,="\\\tabc=/+'.split("")) })), (input) => {
        const result = parseWwwAuthenticate(input);
        expect(Array.isArray(result)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // 2,000 runs take about a second; the margin is for a machine busy with other suites.
  }, 60_000);

  it("round-trips serialized challenges", () => {
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 4 }), (challenges) => {
        const header = challenges
          .map(({ scheme, params }) => [scheme, params.map(([name, value, quote]) => serialize(name, value, quote)).join(", ")].filter(Boolean).join(" "))
          .join(", ");
        const parsed = plain(parseWwwAuthenticate(header));
        expect(parsed).toEqual(challenges.map(({ scheme, params }) => ({ scheme, params: Object.fromEntries(params.map(([name, value]) => [name, value])) })));
      }),
      { numRuns: 500 },
    );
  });
});

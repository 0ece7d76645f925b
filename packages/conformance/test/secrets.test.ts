import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { assertNoSecretIn, renderings, sampleCredentialContext, SAMPLE_TOKEN_ENDPOINT } from "../src/index.js";

const SECRET = "Q~unitTestSecretValue.0123456789abcdef";
const PEM = [
  "-----BEGIN PRIVATE KEY-----",
  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
  "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
  "-----END PRIVATE KEY-----",
].join("\n");

function leakMessage(run: () => void): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected assertNoSecretIn to throw");
}

describe("assertNoSecretIn", () => {
  it("passes when no secret occurs", () => {
    expect(() => assertNoSecretIn({ log: "token acquired for client 123" }, [SECRET, PEM])).not.toThrow();
  });

  it("catches a secret as is, and names where without the secret", () => {
    const message = leakMessage(() => assertNoSecretIn({ clean: "nothing", "error.message": `bad secret ${SECRET}` }, [SECRET]));
    expect(message).toContain('"error.message"');
    expect(message).not.toContain('"clean"');
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(SECRET.slice(0, 12));
  });

  it("catches a JSON-escaped secret", () => {
    const secret = 'with"quote\\and-backslash-0123456789';
    expect(() => assertNoSecretIn({ json: JSON.stringify({ secret }) }, [secret])).toThrow(/JSON-escaped/);
  });

  it("catches a URL-encoded secret (a logged form body)", () => {
    const secret = "a b+c/d=e~f&g0123456789";
    const body = new URLSearchParams({ client_secret: secret }).toString();
    expect(() => assertNoSecretIn({ body: encodeURI(decodeURIComponent(body)) + "&" + `x=${encodeURIComponent(secret)}` }, [secret])).toThrow(
      /URL-encoded/,
    );
  });

  it("catches a PEM that util.inspect split into lines", () => {
    const output = inspect({ key: PEM });
    expect(output).not.toContain(PEM);
    const message = leakMessage(() => assertNoSecretIn({ inspect: output }, [PEM]));
    expect(message).toMatch(/line 2/);
    expect(message).not.toContain("MIIEvQ");
  });

  it("does not treat PEM armour lines as secret", () => {
    expect(() => assertNoSecretIn({ log: "-----BEGIN PRIVATE KEY-----" }, [PEM])).not.toThrow();
  });

  it("refuses an empty secret, which would match everything", () => {
    expect(() => assertNoSecretIn({ log: "" }, [""])).toThrow(TypeError);
  });
});

describe("renderings", () => {
  it("shows what a naive credential leaks through each rendering", () => {
    const naive = { kind: "secret", secret: SECRET };
    const outputs = renderings(naive);
    expect(Object.keys(outputs).sort()).toEqual(["inspect", "inspectRaw", "json", "spread", "string"]);
    expect(outputs.json).toContain(SECRET);
    expect(outputs.inspect).toContain(SECRET);
    expect(() => assertNoSecretIn(outputs, [SECRET])).toThrow(/"json".*"inspect"/);
  });

  it("sees through a custom inspector to non-enumerable and hidden properties", () => {
    const sneaky = Object.defineProperties({}, {
      [Symbol.for("nodejs.util.inspect.custom")]: { value: () => "Credential(***)" },
      toJSON: { value: () => "Credential(***)" },
      toString: { value: () => "Credential(***)" },
      material: { value: SECRET, enumerable: false },
    });
    const outputs = renderings(sneaky);
    expect(outputs.inspect).toBe("Credential(***)");
    expect(outputs.inspectRaw).toContain(SECRET);
  });

  it("does not throw on values that cannot be serialised", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(renderings(circular).json).toMatch(/render threw TypeError/);
    expect(renderings(10n).json).toMatch(/render threw/);
    expect(renderings(undefined).string).toBe("undefined");
  });
});

describe("sampleCredentialContext", () => {
  it("describes an Entra token endpoint by default", () => {
    const context = sampleCredentialContext();
    expect(context.tokenEndpoint).toBe(SAMPLE_TOKEN_ENDPOINT);
    expect(context.clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(context.authorityKind).toBe("entra");
    expect(context.signal).toBeUndefined();
  });

  it("applies overrides", () => {
    const signal = AbortSignal.abort();
    expect(sampleCredentialContext({ authorityKind: "generic", signal })).toMatchObject({ authorityKind: "generic", signal });
  });
});

import { inspect } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { assertNoSecretIn, renderings, sampleCredentialContext } from "@daemon-auth/conformance";
import { AbortError, ConfigurationError, CredentialError, type ClientCredential, type Clock } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { clientSecret, type ClientSecretSource } from "../src/index.js";

const SECRET = "Q~s3cr3tValueThatMustNeverBeLogged.0123456";
const ROTATED = "Q~r0tatedValueThatMustNeverBeLogged.65432";
const REJECTED = { error: "invalid_client", errorCodes: [7000215] } as const;

async function secretOf(credential: ClientCredential, signal?: AbortSignal): Promise<string> {
  const authentication = await credential.getAuthentication(sampleCredentialContext(signal ? { signal } : {}));
  if (!("clientSecret" in authentication)) throw new Error("expected a client secret");
  return authentication.clientSecret;
}

/** A callback that returns each of `values` in turn (the last one repeats) and counts its calls. */
function rotatingSource(...values: string[]): { source: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    source: async () => values[Math.min(calls++, values.length - 1)] as string,
    calls: () => calls,
  };
}

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_700_000_000_000;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

describe("clientSecret (static)", () => {
  it("returns the secret", async () => {
    const credential = clientSecret(SECRET);
    expect(credential.kind).toBe("secret");
    expect(credential.description).toBe("client secret (static)");
    expect(await secretOf(credential)).toBe(SECRET);
  });

  it("has no reload(): a static secret cannot rotate, so core should not retry with it", () => {
    expect(clientSecret(SECRET).reload).toBeUndefined();
  });

  it.each(["", "   ", "\n\t"])("refuses an empty or blank secret %j at construction", (secret) => {
    expect(() => clientSecret(secret)).toThrow(ConfigurationError);
    expect(() => clientSecret(secret)).toThrow(/^clientSecret: the client secret is empty.*secret's value/);
  });

  it.each<unknown>([undefined, null, 42, {}])("refuses a source that is neither a string nor a function (%j)", (source) => {
    expect(() => clientSecret(source as ClientSecretSource)).toThrow(ConfigurationError);
  });

  it("refuses maxAgeMs with a static secret", () => {
    expect(() => clientSecret(SECRET, { maxAgeMs: 1000 })).toThrow(/^clientSecret: 'maxAgeMs' only applies to a callback/);
  });

  it("prints as its description, not its secret", () => {
    const credential = clientSecret(SECRET);
    expect(renderings(credential).string).toBe("client secret (static)");
    expect(JSON.stringify(credential)).toBe('"client secret (static)"');
    expect(inspect(credential)).toBe("client secret (static)");
  });

  it("redacts the authentication it returns when that is logged", async () => {
    const authentication = await clientSecret(SECRET).getAuthentication(sampleCredentialContext());
    // Core reads the field itself; only the ways a logger prints an object are redacted.
    const { json, inspect: inspected, string } = renderings(authentication);
    assertNoSecretIn({ json, inspect: inspected, string } as Record<string, string>, [SECRET]);
  });
});

describe("clientSecret (callback)", () => {
  it("does not call the callback before first use", async () => {
    const { source, calls } = rotatingSource(SECRET);
    const credential = clientSecret(source);
    expect(calls()).toBe(0);
    expect(await secretOf(credential)).toBe(SECRET);
    expect(calls()).toBe(1);
  });

  it("accepts a synchronous callback", async () => {
    expect(await secretOf(clientSecret(() => SECRET))).toBe(SECRET);
  });

  it("keeps the secret until reload(), then calls the callback again (rotation)", async () => {
    const { source, calls } = rotatingSource(SECRET, ROTATED);
    const credential = clientSecret(source);
    expect(await secretOf(credential)).toBe(SECRET);
    expect(await secretOf(credential)).toBe(SECRET);
    expect(calls()).toBe(1);
    await credential.reload?.(REJECTED);
    expect(calls(), "reload() is lazy: the next use reads the source").toBe(1);
    expect(await secretOf(credential)).toBe(ROTATED);
    expect(await secretOf(credential)).toBe(ROTATED);
    expect(calls()).toBe(2);
  });

  it("does not let a read that started before reload() repopulate the old secret", async () => {
    let calls = 0;
    const credential = clientSecret(async () => {
      calls++;
      if (calls === 1) {
        await sleep(50);
        return SECRET;
      }
      return ROTATED;
    });
    const before = secretOf(credential);
    await credential.reload?.(REJECTED);
    expect(await before).toBe(SECRET);
    expect(await secretOf(credential)).toBe(ROTATED);
    expect(calls).toBe(2);
  });

  it("calls the callback again once maxAgeMs has passed on the injected clock", async () => {
    const clock = manualClock();
    const { source, calls } = rotatingSource(SECRET, ROTATED);
    const credential = clientSecret(source, { maxAgeMs: 60_000, clock });
    expect(await secretOf(credential)).toBe(SECRET);
    clock.advance(59_999);
    expect(await secretOf(credential)).toBe(SECRET);
    expect(calls()).toBe(1);
    clock.advance(1);
    expect(await secretOf(credential)).toBe(ROTATED);
    expect(calls()).toBe(2);
    clock.advance(30_000);
    expect(await secretOf(credential)).toBe(ROTATED);
    expect(calls(), "the age counts from the second read").toBe(2);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, "60000"])("refuses maxAgeMs %j", (maxAgeMs) => {
    expect(() => clientSecret(() => SECRET, { maxAgeMs: maxAgeMs as number })).toThrow(ConfigurationError);
    expect(() => clientSecret(() => SECRET, { maxAgeMs: maxAgeMs as number })).toThrow(/^clientSecret: 'maxAgeMs' must be a positive number of milliseconds/);
  });

  it("refuses a clock without now()", () => {
    expect(() => clientSecret(() => SECRET, { clock: {} as Clock })).toThrow(ConfigurationError);
    expect(() => clientSecret(() => SECRET, { clock: {} as Clock })).toThrow(/^clientSecret: 'clock' must be an object with a now\(\) method/);
  });

  it("wraps a throwing callback in a CredentialError that keeps the cause and names the fix", async () => {
    const cause = new Error("403 Forbidden from the vault");
    const credential = clientSecret(() => {
      throw cause;
    });
    const error = await secretOf(credential).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as CredentialError).code).toBe("ERR_CREDENTIAL");
    expect((error as CredentialError).cause).toBe(cause);
    expect((error as CredentialError).message).toMatch(/callback threw.*Check the secret's source/);
  });

  it.each([
    ["an empty string", ""],
    ["a blank string", "  "],
    ["a number", 42],
    ["undefined", undefined],
    ["null", null],
    ["an object holding the secret", { value: SECRET }],
  ])("refuses a callback that returns %s, without echoing it", async (_label, returned) => {
    const credential = clientSecret(async () => returned as string);
    const error = await secretOf(credential).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as CredentialError).cause).toBeInstanceOf(TypeError);
    expect((error as CredentialError).message).toMatch(/non-empty string/);
    assertNoSecretIn({ message: (error as Error).message, stack: (error as Error).stack ?? "", inspect: inspect(error) }, [SECRET]);
  });

  it("does not keep a failure: the next use calls the callback again", async () => {
    let calls = 0;
    const credential = clientSecret(async () => {
      calls++;
      if (calls === 1) throw new Error("transient vault outage");
      return SECRET;
    });
    await expect(secretOf(credential)).rejects.toThrow(CredentialError);
    expect(await secretOf(credential)).toBe(SECRET);
    expect(calls).toBe(2);
  });

  it("shares one failing call between concurrent first uses", async () => {
    let calls = 0;
    const credential = clientSecret(async () => {
      calls++;
      await sleep(20);
      throw new Error("vault down");
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => secretOf(credential)));
    expect(results.every((result) => result.status === "rejected")).toBe(true);
    expect(calls).toBe(1);
  });

  it("rejects an aborted caller at once while the shared read finishes for the next one", async () => {
    const { source, calls } = rotatingSource(SECRET);
    const slow = async (): Promise<string> => {
      await sleep(100);
      return source();
    };
    const credential = clientSecret(slow);
    const controller = new AbortController();
    const aborted = secretOf(credential, controller.signal);
    controller.abort(new Error("shutting down"));
    const error = await aborted.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).cause).toEqual(new Error("shutting down"));
    expect(await secretOf(credential)).toBe(SECRET);
    expect(calls(), "the second use joined the read the aborted one started").toBe(1);
  });

  it("drops the secret on dispose and reads it again on the next use", async () => {
    const { source, calls } = rotatingSource(SECRET, ROTATED);
    const credential = clientSecret(source);
    expect(await secretOf(credential)).toBe(SECRET);
    await credential.dispose?.();
    await credential.dispose?.();
    expect(await secretOf(credential)).toBe(ROTATED);
    expect(calls()).toBe(2);
  });

  it("prints as its description, before and after the secret is loaded", async () => {
    const credential = clientSecret(async () => SECRET);
    expect(renderings(credential).string).toBe("client secret (callback)");
    await secretOf(credential);
    expect(inspect(credential, { showHidden: true, depth: Infinity })).toBe("client secret (callback)");
    assertNoSecretIn(renderings(credential), [SECRET]);
  });
});

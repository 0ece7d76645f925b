import { inspect } from "node:util";
import { AbortError, ConfigurationError, CredentialError } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { assertionCredential } from "../src/index.js";
import { CONTEXT, assertionOf, fakeJwt, manualClock } from "./helpers.js";

/** A callback that counts its calls and returns the next token from `tokens()`. */
function countingSource(tokens: () => string) {
  const source = Object.assign(async () => {
    source.calls += 1;
    return tokens();
  }, { calls: 0 });
  return source;
}

describe("assertionCredential", () => {
  it("sends the callback's assertion as a jwt-bearer client assertion, trimmed", async () => {
    const token = fakeJwt(Date.now() + 3_600_000);
    const credential = assertionCredential(() => `${token}\n`);
    expect(credential.kind).toBe("assertion");
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(token);
  });

  it("keeps a result for maxAgeMs, then calls the callback again", async () => {
    const clock = manualClock();
    let serial = 0;
    const source = countingSource(() => `opaque-assertion-${(serial += 1)}`);
    const credential = assertionCredential(source, { clock, maxAgeMs: 60_000 });

    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque-assertion-1");
    clock.advance(59_999);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque-assertion-1");
    clock.advance(1);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque-assertion-2");
    expect(source.calls).toBe(2);
  });

  it("defaults to five minutes", async () => {
    const clock = manualClock();
    const source = countingSource(() => "opaque");
    const credential = assertionCredential(source, { clock });
    await credential.getAuthentication(CONTEXT);
    clock.advance(299_999);
    await credential.getAuthentication(CONTEXT);
    expect(source.calls).toBe(1);
    clock.advance(1);
    await credential.getAuthentication(CONTEXT);
    expect(source.calls).toBe(2);
  });

  it("maxAgeMs: 0 calls the callback for every request", async () => {
    const source = countingSource(() => "opaque");
    const credential = assertionCredential(source, { maxAgeMs: 0 });
    for (let call = 0; call < 3; call += 1) await credential.getAuthentication(CONTEXT);
    expect(source.calls).toBe(3);
  });

  it("replaces a JWT shortly before its exp, even within maxAgeMs", async () => {
    const clock = manualClock();
    const source = countingSource(() => fakeJwt(clock.now() + 120_000));
    const credential = assertionCredential(source, { clock });
    const first = assertionOf(await credential.getAuthentication(CONTEXT));
    clock.advance(59_000);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(first);
    clock.advance(2_000); // within a minute of exp
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).not.toBe(first);
    expect(source.calls).toBe(2);
  });

  it("asks again for every request while the callback returns an expired JWT", async () => {
    const clock = manualClock();
    const source = countingSource(() => fakeJwt(clock.now() - 1_000));
    const credential = assertionCredential(source, { clock });
    await credential.getAuthentication(CONTEXT);
    await credential.getAuthentication(CONTEXT);
    expect(source.calls).toBe(2);
  });

  it("reload() drops the kept assertion", async () => {
    let serial = 0;
    const source = countingSource(() => `opaque-${(serial += 1)}`);
    const credential = assertionCredential(source);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque-1");
    await credential.reload({ error: "invalid_client", errorCodes: [700024] });
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque-2");
  });

  it("a load that was running during reload() does not put its result back", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let serial = 0;
    const credential = assertionCredential(async () => {
      const value = `opaque-${(serial += 1)}`;
      if (serial === 1) await gate;
      return value;
    });
    const early = credential.getAuthentication(CONTEXT);
    await credential.reload();
    release();
    expect(assertionOf(await early)).toBe("opaque-1");
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque-2");
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque-2");
  });

  it("concurrent first uses call the callback once", async () => {
    const source = countingSource(() => "opaque");
    const credential = assertionCredential(source);
    await Promise.all(Array.from({ length: 25 }, () => credential.getAuthentication(CONTEXT)));
    expect(source.calls).toBe(1);
  });

  it("wraps a failing callback in CredentialError with its cause, and tries again next time", async () => {
    let fail = true;
    const credential = assertionCredential(() => {
      if (fail) throw new Error("OIDC provider unavailable");
      return "opaque";
    });
    const error = await credential.getAuthentication(CONTEXT).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as CredentialError).message).toMatch(/assertion callback failed/);
    expect(((error as CredentialError).cause as Error).message).toBe("OIDC provider unavailable");
    fail = false;
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe("opaque");
  });

  it("passes daemon-auth errors from the callback through", async () => {
    const thrown = new ConfigurationError("set GITHUB_TOKEN");
    const credential = assertionCredential(() => Promise.reject(thrown));
    await expect(credential.getAuthentication(CONTEXT)).rejects.toBe(thrown);
  });

  it("refuses an empty or non-string result", async () => {
    await expect(assertionCredential(() => "  \n").getAuthentication(CONTEXT)).rejects.toThrow(/returned no assertion/);
    await expect(assertionCredential(() => undefined as unknown as string).getAuthentication(CONTEXT)).rejects.toBeInstanceOf(
      CredentialError,
    );
  });

  it("validates its configuration", () => {
    expect(() => assertionCredential("token" as unknown as () => string)).toThrow(ConfigurationError);
    expect(() => assertionCredential("token" as unknown as () => string)).toThrow(
      /^assertionCredential: 'source' must be a function that returns the signed assertion \(a JWT\)\.$/,
    );
    expect(() => assertionCredential(() => "x", { maxAgeMs: -1 })).toThrow(
      /^assertionCredential: 'maxAgeMs' must be a non-negative number of milliseconds, like 300000; got -1\.$/,
    );
    expect(() => assertionCredential(() => "x", { maxAgeMs: Number.NaN })).toThrow(ConfigurationError);
    expect(() => assertionCredential(() => "x", { maxAgeMs: Number.NaN })).toThrow(/^assertionCredential: 'maxAgeMs' must be /);
    expect(() => assertionCredential(() => "x", { clock: Date.now as never })).toThrow(/^assertionCredential: 'clock' must be an object with a now\(\) method/);
  });

  it("honours the caller's signal without failing other callers", async () => {
    await expect(assertionCredential(() => "x").getAuthentication({ ...CONTEXT, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortError,
    );

    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const credential = assertionCredential(async () => {
      await gate;
      return "opaque";
    });
    const controller = new AbortController();
    const impatient = credential.getAuthentication({ ...CONTEXT, signal: controller.signal });
    const patient = credential.getAuthentication(CONTEXT);
    controller.abort();
    await expect(impatient).rejects.toBeInstanceOf(AbortError);
    release();
    expect(assertionOf(await patient)).toBe("opaque");
  });

  it("never prints the assertion", async () => {
    const token = fakeJwt(Date.now() + 3_600_000);
    const credential = assertionCredential(() => token);
    await credential.getAuthentication(CONTEXT);
    for (const output of [String(credential), JSON.stringify(credential), inspect(credential, { showHidden: true, depth: 5 })]) {
      expect(output).toContain("assertion (callback)");
      expect(output).not.toContain(token.split(".")[1]);
    }
  });
});

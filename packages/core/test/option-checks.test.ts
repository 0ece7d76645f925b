import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { optionChecks } from "../src/adapter.js";
import { ConfigurationError, systemClock } from "../src/index.js";

const check = optionChecks("createFooCache");

function thrown(action: () => unknown): ConfigurationError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("expected a ConfigurationError");
}

describe("optionChecks: one dialect for every package's option errors", () => {
  it("prefixes every message with the factory and quotes the option", () => {
    expect(check.factory).toBe("createFooCache");
    expect(check.error("'url' must be a foo:// URL.").message).toBe("createFooCache: 'url' must be a foo:// URL.");
    const cause = new Error("inner");
    expect(check.error("bad", { cause }).cause).toBe(cause);
  });

  it("checks durations: the fallback when unset, a positive finite number otherwise", () => {
    expect(check.milliseconds("timeoutMs", undefined, 500)).toBe(500);
    expect(check.milliseconds("timeoutMs", null, 500)).toBe(500);
    expect(check.milliseconds("timeoutMs", 0.5, 500)).toBe(0.5);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "5", {}]) {
      expect(thrown(() => check.milliseconds("timeoutMs", bad, 500)).message).toMatch(
        /^createFooCache: 'timeoutMs' must be a positive number of milliseconds, like 500; got /,
      );
    }
    expect(check.milliseconds("delayMs", 0, 10, { allowZero: true })).toBe(0);
    expect(thrown(() => check.milliseconds("delayMs", -1, 10, { allowZero: true, example: "250" })).message).toBe(
      "createFooCache: 'delayMs' must be a non-negative number of milliseconds, like 250; got -1.",
    );
  });

  it("checks counts and byte limits as safe integers", () => {
    expect(check.positiveInteger("maxEntries", undefined, 100)).toBe(100);
    expect(check.positiveInteger("maxEntries", 3, 100)).toBe(3);
    expect(thrown(() => check.positiveInteger("maxEntries", 1.5, 100)).message).toBe(
      "createFooCache: 'maxEntries' must be a positive integer, like 100; got 1.5.",
    );
    expect(check.byteLimit("maxEntryBytes", 2048, 1_048_576, 1024)).toBe(2048);
    expect(thrown(() => check.byteLimit("maxEntryBytes", 1023, 1_048_576, 1024)).message).toBe(
      "createFooCache: 'maxEntryBytes' must be a whole number of bytes of at least 1024, like 1048576 (the default); got 1023.",
    );
  });

  it("checks clocks", () => {
    expect(check.clock("clock", undefined, systemClock)).toBe(systemClock);
    const clock = { now: () => 1 };
    expect(check.clock("clock", clock, systemClock)).toBe(clock);
    expect(thrown(() => check.clock("clock", { now: 1 }, systemClock)).message).toMatch(/^createFooCache: 'clock' must be an object with a now\(\) method/);
  });

  it("checks a required duration: unset is refused like any other wrong value", () => {
    expect(check.requiredMilliseconds("ttlMs", 30_000, { example: "30000" })).toBe(30_000);
    for (const [bad, got] of [[undefined, "a undefined"], [null, "null"], [0, "0"], [-1, "-1"], [Number.POSITIVE_INFINITY, "Infinity"], ["5", "a string"]] as const) {
      expect(thrown(() => check.requiredMilliseconds("ttlMs", bad, { example: "30000" })).message).toBe(
        `createFooCache: 'ttlMs' must be a positive number of milliseconds, like 30000; got ${got}.`,
      );
    }
  });

  it("refuses unknown keys, suggesting the nearest known one when it is close", () => {
    const known = ["timeoutMs", "maxEntries", "clock"];
    expect(() => check.knownKeys({ timeoutMs: 1, clock: undefined }, known)).not.toThrow();
    expect(thrown(() => check.knownKeys({ timeoutMS: 1 }, known)).message).toBe("createFooCache: unknown option 'timeoutMS'; did you mean 'timeoutMs'?");
    expect(thrown(() => check.knownKeys({ maxEntry: undefined }, new Set(known), "limits.")).message).toBe(
      "createFooCache: unknown option 'limits.maxEntry'; did you mean 'limits.maxEntries'?",
    );
    expect(thrown(() => check.knownKeys({ proxyAgent: {} }, known)).message).toBe(
      "createFooCache: unknown option 'proxyAgent' (the nearest known option is 'clock'); remove it, the known options are: timeoutMs, maxEntries, clock.",
    );
    // A key is user input: bounded and stripped of control characters in the message.
    expect(thrown(() => check.knownKeys({ [`x\n${"y".repeat(200)}`]: 1 }, known)).message).toMatch(/^createFooCache: unknown option 'x\?y{78}…'/);
  });

  it("describes a rejected value by its type, never echoing a string that may be secret", () => {
    const error = thrown(() => check.milliseconds("timeoutMs", "s3cret-value", 500));
    expect(error.message).toContain("got a string");
    expect(`${error.message} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain("s3cret-value");
  });
});

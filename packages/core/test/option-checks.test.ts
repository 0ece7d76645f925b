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

  it("describes a rejected value by its type, never echoing a string that may be secret", () => {
    const error = thrown(() => check.milliseconds("timeoutMs", "s3cret-value", 500));
    expect(error.message).toContain("got a string");
    expect(`${error.message} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain("s3cret-value");
  });
});

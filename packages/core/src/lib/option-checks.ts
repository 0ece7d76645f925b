import { ConfigurationError } from "../errors.js";
import type { Clock } from "../seams.js";
import { printable } from "./validation.js";

/**
 * Checks the options of one public function, in the dialect every daemon-auth package
 * speaks: each message starts with the function's name and a colon, names the option in
 * single quotes, and says what to pass instead —
 * `createRedisCache: 'commandTimeoutMs' must be a positive number of milliseconds, like 500.`
 * Values are described by type (numbers by value), never echoed: an option may hold a secret.
 */
export interface OptionChecks {
  /** The public function whose options these are, e.g. `"createRedisCache"`. */
  readonly factory: string;
  /**
   * A {@link ConfigurationError} whose message is `"<factory>: <message>"`. Name options in
   * `message` in single quotes and end with what to do. A function property, not a method:
   * it may be passed on on its own (`checkServerUrl(value, "issuer", check.error)`).
   */
  readonly error: (message: string, options?: { cause?: unknown }) => ConfigurationError;
  // Unset means undefined or null, as `options.x ?? fallback` reads it.
  /**
   * A duration option: `fallback` when `value` is unset (undefined or null), else a finite number of
   * milliseconds above 0 (or at least 0 with `allowZero`).
   */
  milliseconds(option: string, value: unknown, fallback: number, settings?: { example?: string; allowZero?: boolean }): number;
  /**
   * A duration the caller must give (a method's argument, e.g. a lock's `ttlMs`): a finite
   * number of milliseconds above 0; unset is refused like any other wrong value.
   */
  requiredMilliseconds(option: string, value: unknown, settings: { example: string }): number;
  /** A count option: `fallback` when `value` is unset (undefined or null), else a safe integer of at least 1. */
  positiveInteger(option: string, value: unknown, fallback: number, settings?: { example?: string }): number;
  /**
   * A size limit in bytes: `fallback` when `value` is unset (undefined or null), else a safe integer of at
   * least `minimum`.
   */
  byteLimit(option: string, value: unknown, fallback: number, minimum: number): number;
  /** A {@link Clock}: `fallback` when `value` is unset (undefined or null), else an object with a `now()` method. */
  clock(option: string, value: unknown, fallback: Clock): Clock;
  /**
   * Refuses a key of `options` that `known` does not list, naming the nearest known one: a
   * misspelt option would otherwise be ignored and its default used without a word. `path`
   * prefixes nested options' names (`"retry."`).
   */
  knownKeys(options: object, known: Iterable<string>, path?: string): void;
}

/**
 * The {@link OptionChecks} of `factory`.
 *
 * @example
 * const check = optionChecks("createFooCache");
 * const timeoutMs = check.milliseconds("timeoutMs", options.timeoutMs, 500, { example: "500" });
 * if (typeof options.url !== "string") throw check.error("'url' must be a foo:// URL, like foo://localhost.");
 */
export function optionChecks(factory: string): OptionChecks {
  const error = (message: string, options?: { cause?: unknown }): ConfigurationError =>
    new ConfigurationError(`${factory}: ${message}`, options);
  const like = (example: string | undefined): string => (example === undefined ? "" : `, like ${example}`);
  return {
    factory,
    error,
    milliseconds(option, value, fallback, settings = {}) {
      if (value === undefined || value === null) return fallback;
      const allowZero = settings.allowZero === true;
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
        throw error(
          `'${option}' must be a ${allowZero ? "non-negative" : "positive"} number of milliseconds${like(settings.example ?? String(fallback))}; got ${describeValue(value)}.`,
        );
      }
      return value;
    },
    requiredMilliseconds(option, value, settings) {
      if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
        throw error(`'${option}' must be a positive number of milliseconds, like ${settings.example}; got ${describeValue(value)}.`);
      }
      return value;
    },
    positiveInteger(option, value, fallback, settings = {}) {
      if (value === undefined || value === null) return fallback;
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
        throw error(`'${option}' must be a positive integer${like(settings.example ?? String(fallback))}; got ${describeValue(value)}.`);
      }
      return value;
    },
    byteLimit(option, value, fallback, minimum) {
      if (value === undefined || value === null) return fallback;
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) {
        throw error(
          `'${option}' must be a whole number of bytes of at least ${minimum}, like ${fallback} (the default); got ${describeValue(value)}.`,
        );
      }
      return value;
    },
    clock(option, value, fallback) {
      if (value === undefined || value === null) return fallback;
      if (typeof value !== "object" || value === null || typeof (value as Partial<Clock>).now !== "function") {
        throw error(`'${option}' must be an object with a now() method returning milliseconds since the epoch.`);
      }
      return value as Clock;
    },
    knownKeys(options, known, path = "") {
      const names = [...known];
      for (const key of Object.keys(options)) {
        if (names.includes(key)) continue;
        const { name: nearest, close } = nearestName(key, names);
        throw error(
          `unknown option '${path}${printable(key)}'` +
            (close
              ? `; did you mean '${path}${nearest}'?`
              : ` (the nearest known option is '${path}${nearest}'); remove it, the known options are: ${names.join(", ")}.`),
        );
      }
    },
  };
}

/** The known name nearest to `key` (case-insensitively), and whether it is close enough to suggest. */
function nearestName(key: string, names: readonly string[]): { name: string; close: boolean } {
  let nearest = names[0] ?? "";
  let best = Number.POSITIVE_INFINITY;
  for (const name of names) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance < best) [nearest, best] = [name, distance];
  }
  return { name: nearest, close: best <= Math.max(2, Math.floor(nearest.length / 3)) };
}

/** Levenshtein distance, for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Names a value's type (and a number's value) without echoing strings, which may be secret. */
function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

import type { TokenCacheStore } from "../cache-store.js";
import type { DaemonClientOptions, RetryOptions } from "../client-types.js";
import { systemClock, type Clock, type Logger, type TelemetryHooks } from "../seams.js";
import { ConfigurationError } from "../errors.js";
import { fetchTransport, type HttpTransport } from "../transport.js";
import type { LifetimePolicy } from "../lib/cached-token.js";
import { printable } from "../lib/validation.js";

// One convention for every option message: the option as the user wrote it, in quotes
// ('retry.maxAttempts'), and what it must be; every mistake is a ConfigurationError thrown
// before any I/O. The client's own options (client/settings.ts) follow it too.

const DEFAULTS = {
  expiryMarginMs: 5 * 60_000,
  requestTimeoutMs: 10_000,
  maxCachedTokens: 100_000,
  errorCacheMs: 30_000,
  maxTokenLifetimeMs: 24 * 60 * 60_000,
  // Above cache-redis' own 500 ms command timeout, so a store's own, more precise error
  // wins; short enough that a hung store costs a cold acquisition little.
  storeTimeoutMs: 2_000,
  retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 10_000 },
} as const;

/**
 * The options every token source shares: the cache, the seams and the cache policy. A
 * client's own options (authority, credential) come on top.
 */
export type AcquisitionOptions = Pick<
  DaemonClientOptions,
  | "cache"
  | "transport"
  | "clock"
  | "logger"
  | "expiryMarginMs"
  | "maxTokenLifetimeMs"
  | "storeTimeoutMs"
  | "requestTimeoutMs"
  | "retry"
  | "maxCachedTokens"
  | "errorCacheMs"
  | "telemetry"
>;

/** {@link AcquisitionOptions}, checked, with defaults applied. Frozen. */
export interface AcquisitionSettings {
  readonly store: TokenCacheStore | undefined;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  /** The hooks as the user passed them; callers guard each call (a throwing hook is logged). */
  readonly telemetry: TelemetryHooks | undefined;
  readonly lifetime: LifetimePolicy;
  readonly storeTimeoutMs: number;
  /** Timeout of one request attempt. */
  readonly requestTimeoutMs: number;
  readonly retry: Required<RetryOptions>;
  readonly maxCachedTokens: number;
  readonly errorCacheMs: number;
}

/**
 * Checks the options every token source shares. For token-source authors: call it on the
 * user's options and hand the result to {@link TokenAcquirer}.
 *
 * @throws {ConfigurationError} naming the option and what it must be.
 */
export function resolveAcquisitionSettings(options: AcquisitionOptions): AcquisitionSettings {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError("The acquisition settings need an options object, e.g. { cache, logger }.");
  }
  return acquisitionSettings(options, checkStore(options.cache));
}

/** {@link resolveAcquisitionSettings} with the `cache` store already checked (the client checks it earlier). */
export function acquisitionSettings(options: AcquisitionOptions, store: TokenCacheStore | undefined): AcquisitionSettings {
  return Object.freeze({
    store,
    clock: options.clock ?? systemClock,
    logger: options.logger,
    telemetry: options.telemetry,
    lifetime: Object.freeze({
      expiryMarginMs: checkDuration(options.expiryMarginMs, "expiryMarginMs", DEFAULTS.expiryMarginMs, true),
      maxLifetimeMs: checkDuration(options.maxTokenLifetimeMs, "maxTokenLifetimeMs", DEFAULTS.maxTokenLifetimeMs, false),
    }),
    maxCachedTokens: checkCount(options.maxCachedTokens, "maxCachedTokens", DEFAULTS.maxCachedTokens),
    errorCacheMs: checkDuration(options.errorCacheMs, "errorCacheMs", DEFAULTS.errorCacheMs, true),
    storeTimeoutMs: checkDuration(options.storeTimeoutMs, "storeTimeoutMs", DEFAULTS.storeTimeoutMs, false),
    transport: checkTransport(options.transport),
    requestTimeoutMs: checkDuration(options.requestTimeoutMs, "requestTimeoutMs", DEFAULTS.requestTimeoutMs, false),
    retry: checkRetry(options.retry),
  });
}

const KNOWN_RETRY_OPTIONS = { maxAttempts: true, baseDelayMs: true, maxDelayMs: true } as const satisfies Record<
  keyof RetryOptions,
  true
>;

/**
 * Refuses keys `known` does not list, naming the nearest known one: a misspelt option
 * would otherwise be ignored and its default used without a word.
 */
export function checkKnownKeys(options: object, known: Readonly<Record<string, true>>, path: string): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    const names = Object.keys(known);
    let nearest = names[0] ?? "";
    let best = Number.POSITIVE_INFINITY;
    for (const name of names) {
      const distance = editDistance(key.toLowerCase(), name.toLowerCase());
      if (distance < best) [nearest, best] = [name, distance];
    }
    const close = best <= Math.max(2, Math.floor(nearest.length / 3));
    throw new ConfigurationError(
      `Unknown option '${path}${printable(key)}' for createDaemonClient` +
        (close
          ? `; did you mean '${path}${nearest}'?`
          : ` (the nearest known option is '${path}${nearest}'); remove it, the known options are: ${names.join(", ")}.`),
    );
  }
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

export function checkStore(store: unknown): TokenCacheStore | undefined {
  if (store === undefined) return undefined;
  const candidate = store as TokenCacheStore;
  if (typeof candidate.get !== "function" || typeof candidate.set !== "function" || typeof candidate.delete !== "function") {
    throw new ConfigurationError("'cache' must be a token cache store (get, set, delete), e.g. createMemoryCache() or createRedisCache(…).");
  }
  return candidate;
}

function checkTransport(transport: unknown): HttpTransport {
  if (transport === undefined) return fetchTransport;
  if (typeof transport !== "function") {
    throw new ConfigurationError("'transport' must be a fetch-shaped function: (url, init) => Promise<Response>.");
  }
  return transport as HttpTransport;
}

/** The longest delay timers accept (`setTimeout` fires at once beyond it): about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkDuration(value: unknown, name: string, fallback: number, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0 && value <= MAX_TIMER_MS) || (!zeroAllowed && value === 0)) {
    throw new ConfigurationError(
      `'${name}' must be a ${zeroAllowed ? "non-negative" : "positive"} number of milliseconds, at most ${MAX_TIMER_MS} (about 24 days).`,
    );
  }
  // Whole milliseconds: AbortSignal.timeout refuses fractions.
  return Math.ceil(value);
}

function checkCount(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`'${name}' must be a positive integer.`);
  }
  return value;
}

function checkRetry(retry: RetryOptions | undefined): Required<RetryOptions> {
  if (retry !== undefined && (retry === null || typeof retry !== "object")) {
    throw new ConfigurationError("'retry' must be an object: { maxAttempts, baseDelayMs, maxDelayMs }.");
  }
  if (retry !== undefined) checkKnownKeys(retry, KNOWN_RETRY_OPTIONS, "retry.");
  return Object.freeze({
    maxAttempts: checkCount(retry?.maxAttempts, "retry.maxAttempts", DEFAULTS.retry.maxAttempts),
    baseDelayMs: checkDuration(retry?.baseDelayMs, "retry.baseDelayMs", DEFAULTS.retry.baseDelayMs, true),
    maxDelayMs: checkDuration(retry?.maxDelayMs, "retry.maxDelayMs", DEFAULTS.retry.maxDelayMs, true),
  });
}

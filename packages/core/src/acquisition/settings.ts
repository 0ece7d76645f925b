import type { TokenCacheStore } from "../cache-store.js";
import type { DaemonClientOptions, RetryOptions } from "../client-types.js";
import { systemClock, type Clock, type Logger, type TelemetryHooks } from "../seams.js";
import { fetchTransport, type HttpTransport } from "../transport.js";
import type { LifetimePolicy } from "../lib/cached-token.js";
import { optionChecks, type OptionChecks } from "../lib/option-checks.js";

// Every option message speaks optionChecks' dialect: the function the user called, the
// option as they wrote it, in quotes ('retry.maxAttempts'), and what it must be; every
// mistake is a ConfigurationError thrown before any I/O. The client's own options
// (client/settings.ts) follow it too.

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
 * user's options with the name of the factory the user called, so that a mistake reads
 * like the rest of that factory's option errors, and hand the result to {@link TokenAcquirer}.
 *
 * @param factory - The public function whose options these are, e.g.
 *   `"createManagedIdentityClient"`: every message starts with it and a colon.
 * @throws {ConfigurationError} `"<factory>: '<option>' must …"`.
 *
 * @example
 * const settings = resolveAcquisitionSettings(options, "createFooClient");
 */
export function resolveAcquisitionSettings(options: AcquisitionOptions, factory = "resolveAcquisitionSettings"): AcquisitionSettings {
  const check = optionChecks(factory);
  if (options === null || typeof options !== "object") {
    throw check.error("the options must be an object, e.g. { cache, logger }.");
  }
  return acquisitionSettings(options, checkStore(options.cache, check), check);
}

/** {@link resolveAcquisitionSettings} with the `cache` store already checked (the client checks it earlier). */
export function acquisitionSettings(options: AcquisitionOptions, store: TokenCacheStore | undefined, check: OptionChecks): AcquisitionSettings {
  return Object.freeze({
    store,
    clock: options.clock ?? systemClock,
    logger: options.logger,
    telemetry: options.telemetry,
    lifetime: Object.freeze({
      expiryMarginMs: checkDuration(check, options.expiryMarginMs, "expiryMarginMs", DEFAULTS.expiryMarginMs, true),
      maxLifetimeMs: checkDuration(check, options.maxTokenLifetimeMs, "maxTokenLifetimeMs", DEFAULTS.maxTokenLifetimeMs, false),
    }),
    maxCachedTokens: checkCount(check, options.maxCachedTokens, "maxCachedTokens", DEFAULTS.maxCachedTokens),
    errorCacheMs: checkDuration(check, options.errorCacheMs, "errorCacheMs", DEFAULTS.errorCacheMs, true),
    storeTimeoutMs: checkDuration(check, options.storeTimeoutMs, "storeTimeoutMs", DEFAULTS.storeTimeoutMs, false),
    transport: checkTransport(check, options.transport),
    requestTimeoutMs: checkDuration(check, options.requestTimeoutMs, "requestTimeoutMs", DEFAULTS.requestTimeoutMs, false),
    retry: checkRetry(check, options.retry),
  });
}

const KNOWN_RETRY_OPTIONS = { maxAttempts: true, baseDelayMs: true, maxDelayMs: true } as const satisfies Record<
  keyof RetryOptions,
  true
>;

/** The `cache` option: a {@link TokenCacheStore} or unset. */
export function checkStore(store: unknown, check: OptionChecks): TokenCacheStore | undefined {
  if (store === undefined) return undefined;
  const candidate = store as TokenCacheStore | null;
  if (typeof candidate?.get !== "function" || typeof candidate.set !== "function" || typeof candidate.delete !== "function") {
    throw check.error("'cache' must be a token cache store (get, set, delete), e.g. createMemoryCache() or createRedisCache(…).");
  }
  return candidate;
}

function checkTransport(check: OptionChecks, transport: unknown): HttpTransport {
  if (transport === undefined) return fetchTransport;
  if (typeof transport !== "function") {
    throw check.error("'transport' must be a fetch-shaped function: (url, init) => Promise<Response>.");
  }
  return transport as HttpTransport;
}

/** The longest delay timers accept (`setTimeout` fires at once beyond it): about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkDuration(check: OptionChecks, value: unknown, name: string, fallback: number, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0 && value <= MAX_TIMER_MS) || (!zeroAllowed && value === 0)) {
    throw check.error(
      `'${name}' must be a ${zeroAllowed ? "non-negative" : "positive"} number of milliseconds, at most ${MAX_TIMER_MS} (about 24 days).`,
    );
  }
  // Whole milliseconds: AbortSignal.timeout refuses fractions.
  return Math.ceil(value);
}

function checkCount(check: OptionChecks, value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw check.error(`'${name}' must be a positive integer, like ${fallback}.`);
  }
  return value;
}

function checkRetry(check: OptionChecks, retry: RetryOptions | undefined): Required<RetryOptions> {
  if (retry !== undefined && (retry === null || typeof retry !== "object")) {
    throw check.error("'retry' must be an object: { maxAttempts, baseDelayMs, maxDelayMs }.");
  }
  if (retry !== undefined) check.knownKeys(retry, Object.keys(KNOWN_RETRY_OPTIONS), "retry.");
  return Object.freeze({
    maxAttempts: checkCount(check, retry?.maxAttempts, "retry.maxAttempts", DEFAULTS.retry.maxAttempts),
    baseDelayMs: checkDuration(check, retry?.baseDelayMs, "retry.baseDelayMs", DEFAULTS.retry.baseDelayMs, true),
    maxDelayMs: checkDuration(check, retry?.maxDelayMs, "retry.maxDelayMs", DEFAULTS.retry.maxDelayMs, true),
  });
}

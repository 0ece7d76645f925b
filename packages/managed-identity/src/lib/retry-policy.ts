// The platforms' retry rules, as @azure/msal-node applies them (ImdsRetryPolicy and
// DefaultManagedIdentityRetryPolicy): which statuses are worth another attempt, how many,
// and how long to wait before each. A `Retry-After` the server sends wins over the wait
// computed here (see managed-identity-fetcher.ts).

/** IMDS answers these while it is updating or busy; every 5xx too. */
const IMDS_RETRYABLE = new Set([404, 408, 410, 429]);
/** IMDS answers 410 for up to 70 s while it updates: seven tries, ten seconds apart. */
const IMDS_GONE = { retries: 7, delayMs: 10_000 } as const;
/** Otherwise three retries after 1, 2 and 4 seconds. */
const IMDS_EXPONENTIAL = { retries: 3, firstDelayMs: 1_000, deltaMs: 2_000, maxDelayMs: 4_000 } as const;

/** The other sources: three retries, one second apart, on these statuses. */
const DEFAULT_RETRYABLE = new Set([404, 408, 429, 500, 503, 504]);
const DEFAULT_POLICY = { retries: 3, delayMs: 1_000 } as const;

/** The longest any single wait of these policies takes: what a `Retry-After` may ask for before it ends the retries. */
export const MAX_POLICY_DELAY_MS = IMDS_GONE.delayMs;
/** Attempts a fetch may make at most, the first included. */
export const MAX_POLICY_ATTEMPTS = IMDS_GONE.retries + 1;

/** The retries of one fetch: asked after each failed attempt, it says how long to wait, or `undefined` to stop. */
export class RetrySchedule {
  private retries = 0;
  private maxRetries: number | undefined;

  constructor(private readonly kind: "imds" | "default") {}

  /** The wait before the next attempt after an answer with `status`, or `undefined` when no retry is due. */
  next(status: number): number | undefined {
    const delay = this.kind === "imds" ? this.imds(status) : this.other(status);
    if (delay !== undefined) this.retries += 1;
    return delay;
  }

  private imds(status: number): number | undefined {
    // As msal-node: the first failure decides how many retries this fetch gets.
    this.maxRetries ??= status === 410 ? IMDS_GONE.retries : IMDS_EXPONENTIAL.retries;
    if (!(IMDS_RETRYABLE.has(status) || (status >= 500 && status <= 599)) || this.retries >= this.maxRetries) return undefined;
    if (status === 410) return IMDS_GONE.delayMs;
    if (this.retries === 0) return IMDS_EXPONENTIAL.firstDelayMs;
    return Math.min(2 ** (this.retries - 1) * IMDS_EXPONENTIAL.deltaMs, IMDS_EXPONENTIAL.maxDelayMs);
  }

  private other(status: number): number | undefined {
    if (!DEFAULT_RETRYABLE.has(status) || this.retries >= DEFAULT_POLICY.retries) return undefined;
    return DEFAULT_POLICY.delayMs;
  }
}

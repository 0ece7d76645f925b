/** The time source; inject one in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Waits `ms` milliseconds of this clock's time: between polls of another process's
   * refresh lock and between retries of a token request. A test clock implements it by
   * advancing itself, so a frozen clock cannot leave a wait spinning forever. The wait
   * ends early with an `AbortError` when `signal` fires (the client is disposed), whether
   * or not the implementation watches the signal.
   * @default a real timer (`setTimeout`)
   */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Structured fields of a log record. Never holds secrets, assertions or tokens. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * Receives the client's log records. Every method is optional. Core never passes a
 * secret, client assertion or access token to a logger.
 */
export interface Logger {
  debug?(message: string, fields?: LogFields): void;
  info?(message: string, fields?: LogFields): void;
  warn?(message: string, fields?: LogFields): void;
  error?(message: string, fields?: LogFields): void;
}

/**
 * Telemetry hooks, each called synchronously. A hook that throws is logged (`warn`)
 * and otherwise ignored: a telemetry bug never costs the caller its token.
 */
export interface TelemetryHooks {
  /** After each token endpoint round trip. */
  onTokenRequest?(event: {
    readonly tokenEndpoint: string;
    readonly status: number | undefined;
    readonly durationMs: number;
    readonly attempt: number;
    readonly correlationId: string;
  }): void;
  /** After each acquisition, however it was answered. */
  onAcquire?(event: { readonly source: TokenSource; readonly durationMs: number; readonly cacheKey: string }): void;
}

/** Where a token came from. */
export type TokenSource = "network" | "cache" | "shared-cache";

// The seams a client takes from its host: the clock, the logger and the telemetry hooks.

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
 * and otherwise ignored: a telemetry bug never costs the caller its token. Each hook is
 * looked up only where its event happens, so a client without it pays nothing for it.
 * No event carries a token, a secret, an assertion or a server's text.
 */
export interface TelemetryHooks {
  /** After each token endpoint round trip (each attempt). */
  onTokenRequest?(event: TokenRequestEvent): void;
  /** After each acquisition that returned a token, however it was answered. */
  onAcquire?(event: {
    readonly source: TokenSource;
    readonly durationMs: number;
    readonly cacheKey: string;
    /** When the served token expires: what the caller got, to watch how close to expiry tokens are served. */
    readonly expiresOn: Date;
    /** `expiresOn` in milliseconds since the epoch, for hooks that compute with it. */
    readonly expiresOnTimestamp: number;
  }): void;
  /** After each acquisition that failed. */
  onAcquireError?(event: AcquireErrorEvent): void;
  /**
   * After each failed call to the shared store (`get`, `set`, `lock`, `release`),
   * including one past `storeTimeoutMs`; the acquisition itself goes on without the store.
   */
  onStoreError?(event: { readonly operation: string; readonly store: string | undefined; readonly errorCode: string }): void;
  /** When a proactive refresh in the background starts, and when it ends. */
  onBackgroundRefresh?(event: {
    readonly phase: "started" | "succeeded" | "failed";
    /** The failure's `code` when `phase` is `"failed"`. */
    readonly errorCode?: string | undefined;
  }): void;
}

/** One token endpoint round trip, for {@link TelemetryHooks.onTokenRequest}. */
export interface TokenRequestEvent {
  /** The token endpoint's URL, as configured or discovered (no query added by the client holds a secret). */
  readonly tokenEndpoint: string;
  /** The HTTP status, `undefined` when no answer arrived (timeout, reset). */
  readonly status: number | undefined;
  readonly durationMs: number;
  /** 1 for the first attempt of an acquisition, then 2, 3… */
  readonly attempt: number;
  readonly correlationId: string;
  /** The attempt's error `code` (`ERR_SERVER`, `ERR_TIMEOUT`, …) when it failed; `undefined` on success. */
  readonly errorCode?: string | undefined;
  /** The OAuth 2.0 `error` of an error response (`invalid_client`). */
  readonly error?: string | undefined;
  /** Entra's AADSTS codes of an error response. */
  readonly errorCodes?: readonly number[] | undefined;
}

/** A failed acquisition, for {@link TelemetryHooks.onAcquireError}. */
export interface AcquireErrorEvent {
  readonly durationMs: number;
  /** The error's `code` (`ERR_SERVER`, `ERR_THROTTLED`, …), or `"ERR_UNKNOWN"` for a non-daemon-auth error. */
  readonly errorCode: string;
  /** Entra's AADSTS codes when the server refused the request. */
  readonly errorCodes: readonly number[];
}

/** Where a token came from. */
export type TokenSource = "network" | "cache" | "shared-cache";

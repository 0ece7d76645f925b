import type { Clock } from "../seams.js";
import { PERMANENT_ERROR_CODES, ServerError, ThrottledError, type DaemonAuthError } from "../errors.js";
import { throttledUntil } from "../lib/token-endpoint.js";
import { fleetBackoffError, type FleetFailure } from "./fleet-backoff.js";

/** Entra's loop detection: asking again at once prolongs it, so it is remembered like a permanent error. */
const LOOP_DETECTED = 50196;

/**
 * After a refresh fails while the cached token stays valid, the next one waits a quarter
 * of the time the token has left, within these bounds: a failing server is not asked
 * again on every cache hit, and a token close to expiry still gets a few more tries.
 */
const REFRESH_PAUSE_MS = { min: 1_000, max: 30_000 } as const;

/**
 * "May I call the network for this token key now?" Three memories, per key:
 * - a permanent failure (wrong or expired secret, unknown app or tenant, Entra's loop
 *   detection), replayed for `errorCacheMs` so a hot loop does not hammer the server;
 * - a server-imposed pause (`Retry-After` on 429/503), during which no request is sent;
 * - a refresh pause after a failed refresh while the cached token stayed valid, during
 *   which the cached token is served without asking again;
 * - the fleet's backoff: a failure marker another process sharing the store (or this one)
 *   wrote, remembered until it ends so the store is not asked again on every call.
 */
export class RequestGates {
  private readonly failures = new Map<string, { error: DaemonAuthError; until: number }>();
  private readonly pausedUntil = new Map<string, number>();
  private readonly refreshPausedUntil = new Map<string, number>();
  private readonly fleetFailures = new Map<string, FleetFailure>();

  constructor(
    private readonly clock: Clock,
    private readonly errorCacheMs: number,
  ) {}

  /**
   * Throws the remembered permanent failure, or a {@link ThrottledError} during a
   * `Retry-After` pause; returns when a request may be sent.
   */
  checkNetwork(key: string): void {
    const now = this.clock.now();
    const failure = this.failures.get(key);
    if (failure !== undefined) {
      if (now < failure.until) throw failure.error;
      this.failures.delete(key);
    }
    const paused = this.pausedUntil.get(key);
    if (paused !== undefined) {
      if (now < paused) throw throttledUntil(paused);
      this.pausedUntil.delete(key);
    }
  }

  /** Records a server-imposed pause (`Retry-After`) for every caller of `key`. */
  pause(key: string, until: number): void {
    this.pausedUntil.set(key, until);
  }

  /** Remembers `error` for `errorCacheMs` when no retry soon can succeed. */
  recordFailure(key: string, error: unknown): void {
    if (error instanceof ServerError && error.errorCodes.some((code) => PERMANENT_ERROR_CODES.has(code) || code === LOOP_DETECTED)) {
      this.failures.set(key, { error, until: this.clock.now() + this.errorCacheMs });
    }
  }

  /** Whether a refresh of `key` is paused at `now` after an earlier one failed. */
  refreshPaused(key: string, now: number): boolean {
    return now < (this.refreshPausedUntil.get(key) ?? 0);
  }

  /**
   * Pauses refreshes of `key` after one failed while a token valid until `expiresOn` is
   * served: a quarter of its remaining life (bounded), or longer if the server said so.
   */
  pauseRefresh(key: string, expiresOn: number, error: unknown): void {
    this.refreshPausedUntil.set(key, this.backoffUntil(expiresOn, error));
  }

  /**
   * When the next request may go after one failed with `error`: a quarter of the valid
   * token's remaining life (bounded), the shortest pause when no valid token is held
   * (`expiresOn` undefined), or later if the server said so (`Retry-After`).
   */
  backoffUntil(expiresOn: number | undefined, error: unknown): number {
    const now = this.clock.now();
    const pause = expiresOn === undefined ? REFRESH_PAUSE_MS.min : Math.min(REFRESH_PAUSE_MS.max, Math.max(REFRESH_PAUSE_MS.min, (expiresOn - now) / 4));
    const retryAfter = error instanceof ThrottledError ? error.retryAfter.getTime() : 0;
    return Math.max(now + pause, retryAfter);
  }

  /** Remembers the fleet's failure marker of `key` until it ends. */
  rememberFleetFailure(key: string, failure: FleetFailure): void {
    this.fleetFailures.set(key, failure);
  }

  /** Throws the fleet's backoff error while a remembered failure marker of `key` is in force. */
  checkFleet(key: string, now: number): void {
    const failure = this.fleetFailures.get(key);
    if (failure === undefined) return;
    if (now < failure.until) throw fleetBackoffError(failure);
    this.fleetFailures.delete(key);
  }

  /** A refresh of `key` succeeded: its pause is over. */
  refreshSucceeded(key: string): void {
    this.refreshPausedUntil.delete(key);
    this.fleetFailures.delete(key);
  }

  /** Forgets remembered failures and refresh pauses (not `Retry-After`: the server's word stands). */
  clear(): void {
    this.failures.clear();
    this.refreshPausedUntil.clear();
    this.fleetFailures.clear();
  }
}

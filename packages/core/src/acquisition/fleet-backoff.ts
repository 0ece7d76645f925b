import { HttpError, ServerError, ThrottledError, TimeoutError } from "../errors.js";
import { isTime, parseStoredObject } from "../lib/cached-token.js";

/**
 * "The fleet's last refresh of this key failed": what a process that failed to get a token
 * writes beside the entry in the shared store, so that every process sharing the store
 * backs off with it instead of running its own retries. Times only, and the failure's
 * status and codes: never a token, a secret or a server's text.
 */
export interface FleetFailure {
  /** When the failed attempt ended (ms since the epoch). */
  readonly failedAt: number;
  /** No process sends a token request for the key before this (ms since the epoch). */
  readonly until: number;
  /** The HTTP status of the last answer, if one arrived. */
  readonly status: number | undefined;
  /** The error's `code` (`ERR_SERVER`, `ERR_TIMEOUT`, …). */
  readonly code: string;
  /** Entra's AADSTS codes of the answer, if any. */
  readonly errorCodes: readonly number[];
}

/** The marker's format version; others read as absent. */
const FORMAT = 1;

/**
 * The store key of the marker of the entry under `key`. A token key has exactly four
 * `|`-separated parts (each part's own `|` is percent-encoded), so this fifth part can
 * never be another token's key.
 */
export function fleetFailureKey(key: string): string {
  return `${key}|refresh-failed`;
}

/**
 * Whether a failure says something about the token endpoint rather than about this
 * process: throttling, a timeout, an unreachable server or a 5xx / 408 / 429 answer.
 * A rejected credential or a permanent error stays this process's own (another process
 * may hold a rotated secret), and so does a disposed client.
 */
export function isFleetFailure(error: unknown): error is ThrottledError | TimeoutError | HttpError | ServerError {
  if (error instanceof ThrottledError || error instanceof TimeoutError) return true;
  if (error instanceof ServerError || error instanceof HttpError) {
    const status = error.status;
    return status === undefined || status === 408 || status === 429 || status >= 500;
  }
  return false;
}

/** The marker of `error`, failed at `now`, honoured until `until`. */
export function fleetFailure(error: ThrottledError | TimeoutError | HttpError | ServerError, now: number, until: number): FleetFailure {
  const status = error instanceof ServerError || error instanceof HttpError ? error.status : error instanceof ThrottledError ? 429 : undefined;
  return { failedAt: now, until, status, code: error.code, errorCodes: error instanceof ServerError ? error.errorCodes : [] };
}

export function serializeFleetFailure(failure: FleetFailure): string {
  return JSON.stringify({ v: FORMAT, ...failure, status: failure.status ?? null });
}

/** The marker in `value`, or `undefined` when it is not one: a store is not trusted, so every field is checked. */
export function parseFleetFailure(value: string): FleetFailure | undefined {
  const marker = parseStoredObject(value);
  if (marker === undefined) return undefined;
  const { failedAt, until, status, code, errorCodes } = marker;
  if (
    marker["v"] !== FORMAT ||
    !isTime(failedAt) ||
    !isTime(until) ||
    !(status === null || (Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)) ||
    // The code ends up in an error message: only the shape of core's own codes.
    typeof code !== "string" ||
    !/^ERR_[A-Z_]{1,40}$/.test(code) ||
    !Array.isArray(errorCodes) ||
    errorCodes.length > 16 ||
    !errorCodes.every((entry) => Number.isInteger(entry) && (entry as number) >= 0 && (entry as number) < 1e9)
  ) {
    return undefined;
  }
  return { failedAt, until, status: (status as number | null) ?? undefined, code, errorCodes: errorCodes as number[] };
}

/** The error a process without a valid token gets while the fleet backs off. */
export function fleetBackoffError(failure: FleetFailure): ThrottledError {
  const answer = failure.status === undefined ? "no answer" : `HTTP ${String(failure.status)}`;
  const codes = failure.errorCodes.length > 0 ? `, AADSTS${failure.errorCodes.join(", AADSTS")}` : "";
  return new ThrottledError(
    `The last token request for this key by a process sharing the token cache failed at ${new Date(failure.failedAt).toISOString()} ` +
      `(${failure.code}, ${answer}${codes}); no process sharing the cache asks the token endpoint again before ` +
      `${new Date(failure.until).toISOString()}. Retry after then, and check the token endpoint's health if it persists.`,
    { retryAfter: new Date(failure.until) },
  );
}

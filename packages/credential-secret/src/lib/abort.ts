import { AbortError } from "@daemon-auth/core";

/** Throws core's {@link AbortError} if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new AbortError("The token request was aborted before the client secret was read.", { cause: signal.reason });
  }
}

/**
 * Waits for `promise`, but rejects with {@link AbortError} as soon as `signal` fires.
 * The promise itself keeps running: other callers may share it.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(new AbortError("The token request was aborted while the client secret was being read.", { cause: signal.reason }));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.finally(() => signal.removeEventListener("abort", onAbort)).then(resolve, reject);
  });
}

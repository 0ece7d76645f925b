import { AbortError, InvalidResponseError } from "../errors.js";
import type { Clock } from "../seams.js";
import { printable } from "./validation.js";

/** Token and discovery responses are small; anything larger is a misbehaving server. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Reads a response body as JSON, refusing bodies over {@link MAX_RESPONSE_BYTES} and
 * anything that is not a JSON object. The body text never enters an error message:
 * an echoing server could put a secret in it.
 */
export async function readJsonObject(response: Response, what: string): Promise<Record<string, unknown>> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw new InvalidResponseError(`The ${what} response is too large (${declared} bytes); is the URL right?`, {
      status: response.status,
    });
  }
  const text = await readCapped(response, what);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // No cause: V8's SyntaxError quotes the start of the body, which an echoing server fills.
    // The media type only: parameters are free text a server could fill with an echo.
    const type = /^[\w.+-]{1,40}\/[\w.+-]{1,60}/.exec(response.headers.get("content-type") ?? "")?.[0] ?? "no usual content type";
    throw new InvalidResponseError(
      `The ${what} response (HTTP ${response.status}, ${type}) is not JSON; is the URL an OAuth 2.0 endpoint, or is a proxy answering?`,
      { status: response.status },
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidResponseError(`The ${what} response (HTTP ${response.status}) is JSON but not an object.`, {
      status: response.status,
    });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Refuses a redirect, whatever the transport did with it: a 3xx status, or the opaque
 * answer (`type: "opaqueredirect"`, status 0) of `fetch` with `redirect: "manual"` in
 * browsers and edge runtimes. Following one would re-send the form (client secret or
 * assertion) to wherever `Location` points, or take a token minted by another host.
 * The message names the target's host only: its path and query may carry secrets.
 *
 * @param what names the endpoint: "token endpoint", "discovery document".
 * @throws {InvalidResponseError} for any redirect; the body is discarded unread.
 */
export async function refuseRedirect(response: Response, url: string, what: string): Promise<void> {
  const opaque = response.type === "opaqueredirect";
  if (!opaque && (response.status < 300 || response.status > 399)) return;
  await response.body?.cancel().catch(() => undefined);
  const target = opaque ? "a location the runtime hides" : redirectHost(response.headers.get("location"), url);
  throw new InvalidResponseError(
    `The ${what} at ${new URL(url).origin} answered with a redirect (HTTP ${response.status}) to ${target}; it was not followed, and no credential was sent there. ` +
      `A ${what} does not redirect: configure the final URL (or the issuer that names it), or check for a proxy or a moved server.`,
    { status: response.status },
  );
}

function redirectHost(location: string | null, base: string): string {
  if (location === null) return "no location";
  try {
    const target = new URL(location, base);
    return `host '${printable(target.host || target.protocol, 100)}' (${target.protocol.replace(/:$/, "")})`;
  } catch {
    return "an unreadable location";
  }
}

async function readCapped(response: Response, what: string): Promise<string> {
  const bytes = await readBodyUpTo(response, MAX_RESPONSE_BYTES);
  if (bytes === undefined) {
    throw new InvalidResponseError(`The ${what} response is larger than ${MAX_RESPONSE_BYTES} bytes; is the URL right?`, {
      status: response.status,
    });
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Reads a response body of at most `limit` bytes; `undefined` (and the body
 * cancelled) when it is larger, so a hostile server cannot exhaust memory.
 */
export async function readBodyUpTo(response: Response, limit: number): Promise<Uint8Array | undefined> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Parses `Retry-After` (delta-seconds or an HTTP-date, RFC 9110 §10.2.3) into
 * milliseconds from `now`; `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  let delay: number;
  if (/^\d+$/.test(trimmed)) delay = Number(trimmed) * 1000;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    delay = Math.max(0, date - now);
  }
  // A pause past a day is a server bug, and past year 275760 not even a Date.
  return Math.min(delay, MAX_RETRY_AFTER_MS);
}

/** The longest `Retry-After` honoured: one day. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;

/** Waits `ms`, or rejects with {@link AbortError} when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortErrorFrom(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortErrorFrom(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Waits `ms` of `clock`'s time: its own `sleep` when it has one (a test clock advances
 * itself), a real timer otherwise. Ends with {@link AbortError} when `signal` fires, even
 * if the clock's `sleep` ignores the signal.
 */
export function sleepOn(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return clock.sleep === undefined ? sleep(ms, signal) : raceAbort(clock.sleep(ms, signal), signal);
}

/**
 * Throws {@link AbortError} when `signal` has fired. `activity` names what was
 * stopped, for the message ("Reading the client secret").
 */
export function throwIfAborted(signal: AbortSignal | undefined, activity?: string): void {
  if (signal?.aborted === true) throw abortErrorFrom(signal, activity);
}

/**
 * Waits for `promise`, but rejects with {@link AbortError} as soon as `signal` fires.
 * The work itself goes on: other callers may share it (single-flight loads, reused
 * assertions), so only this caller stops waiting.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, activity?: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortErrorFrom(signal, activity));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortErrorFrom(signal, activity));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the shared work's own rejection, passed through unchanged
        reject(error);
      },
    );
  });
}

function abortErrorFrom(signal: AbortSignal, activity = "The token acquisition"): AbortError {
  return new AbortError(`${activity} was aborted by the caller's signal.`, { cause: signal.reason });
}

/** A signal that aborts when `parent` does or after `timeoutMs`; see {@link withDeadline}. */
export interface DeadlineSignal {
  readonly signal: AbortSignal;
  /** True once the deadline (not the parent) aborted the signal. */
  timedOut(): boolean;
  /** Stops the timer and detaches from `parent`. Call it when the guarded work ends. */
  dispose(): void;
}

/**
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` without its cost on a long-lived
 * parent: Node 20 keeps a reference per derived signal on the parent until it is
 * collected, so a client's lifetime signal would gather one per token request.
 */
export function withDeadline(parent: AbortSignal, timeoutMs: number): DeadlineSignal {
  const controller = new AbortController();
  let expired = false;
  const onParentAbort = (): void => controller.abort(parent.reason);
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`The operation timed out after ${timeoutMs} ms.`, "TimeoutError"));
  }, timeoutMs);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener("abort", onParentAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParentAbort);
    },
  };
}

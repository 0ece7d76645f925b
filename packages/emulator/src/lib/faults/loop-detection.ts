// Entra's loop detection: identical token requests (client, tenant, scope)
// counted in a sliding window; one too many is answered with AADSTS50196.
import { AadstsFailure } from "../../aadsts.js";
import type { LoopDetectionOptions } from "./types.js";
import { validateLoopDetection } from "./validation.js";

// Keys of clients that stopped asking are swept once the map grows past this.
const SWEEP_ABOVE_KEYS = 10_000;

/** Counts identical token requests in a sliding window (Entra's loop detection). */
export class LoopDetector {
  #options: LoopDetectionOptions | undefined;
  readonly #seen = new Map<string, number[]>();

  constructor(options: LoopDetectionOptions | undefined) {
    this.configure(options);
  }

  /** Turns loop detection on with new limits, or off with undefined. Forgets what was counted. */
  configure(options: LoopDetectionOptions | undefined): void {
    this.#options = options === undefined ? undefined : validateLoopDetection(options, "loopDetection");
    this.#seen.clear();
  }

  /** Counts a request for `key` at `now`; true when it is one too many. */
  tooMany(key: string, now: number): boolean {
    const options = this.#options;
    if (options === undefined) return false;
    const since = now - options.windowMs;
    const times = (this.#seen.get(key) ?? []).filter((at) => at > since);
    times.push(now);
    this.#seen.set(key, times);
    if (this.#seen.size > SWEEP_ABOVE_KEYS) {
      for (const [other, seen] of this.#seen) if (seen.every((at) => at <= since)) this.#seen.delete(other);
    }
    return times.length > options.maxRequests;
  }
}

/** The AADSTS50196 failure loop detection answers with. */
export function loopDetected(): AadstsFailure {
  return new AadstsFailure(
    50196,
    "The server terminated an operation because it encountered a client request loop. Please contact your app vendor. (The same client asked for the same token too often: cache tokens.)",
  );
}

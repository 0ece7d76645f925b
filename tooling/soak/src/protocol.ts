// What the parent and the workers tell each other: the worker's arguments, the go
// file's timeline, and the worker's final report (one JSON line on stdout).

/** The one argument of a worker, as JSON. */
export interface WorkerArguments {
  /** `emulator.url`. */
  emulatorUrl: string;
  /** The sentinels watching the shared Redis, and the name of its master. */
  sentinel: { sentinels: { host: string; port: number }[]; name: string };
  /** Redis key prefix shared by every worker of one soak. */
  keyPrefix: string;
  /** The file whose appearance starts the run; it holds a {@link Timeline}. */
  goFile: string;
}

/** Absolute times (ms since the epoch) of one soak run. */
export interface Timeline {
  startAt: number;
  /** The heap baseline is taken here, once every key was acquired a few times. */
  warmupAt: number;
  endAt: number;
}

/** One worker's acquisitions of one key. */
export interface KeyReport {
  /** {@link SoakKey.label}. */
  key: string;
  ok: number;
  /** Failed acquisitions when the token this worker last received for the key had not expired yet. */
  failedWhileValid: number;
  /** Failed acquisitions with no unexpired token in hand (before the first token, or after one expired). */
  failedWithoutValid: number;
  /** Error codes of failed acquisitions, with counts. */
  errors: Record<string, number>;
  /** Who answered the successful acquisitions: cache, shared-cache or network. */
  sources: Record<string, number>;
  /** Distinct tokens received. */
  tokens: number;
  /** Tokens handed out that were not valid for this key: wrong audience, tenant or client, bad signature, expired. */
  wrongTokens: number;
  /** Why, for the first few of them. */
  wrongTokenReasons: string[];
  /** Slowest acquisition, in milliseconds: a hang shows here. */
  slowestMs: number;
}

/** The last line a worker prints. */
export interface WorkerReport {
  worker: number;
  keys: KeyReport[];
  /** Live objects on the heap (code spaces left out) after a full GC, in bytes: at {@link Timeline.warmupAt} and at the end. */
  heapAfterWarmup: number;
  heapAtEnd: number;
  /** The same measure once per token lifetime from warm-up to the end: the trend. */
  heapSamples: number[];
  unhandledRejections: number;
}

// The faults the soak injects while the workers acquire: the token endpoint misbehaving
// in every way the emulator can (bounded bursts, so a refresh succeeds well within a
// token's lifetime), Redis frozen and restarted empty, and its master killed for good
// (the sentinel fails over to the replica).
import { setTimeout as sleep } from "node:timers/promises";
import type { Emulator, FaultHandle, FaultRule } from "@daemon-auth/emulator";
import type { RedisSentinelSetup, RedisServer } from "@daemon-auth/test-utils";
import { TENANTS } from "./scenario.js";

/** What the schedule acts on. */
export interface FaultTargets {
  emulator: Emulator;
  /** The master the workers start on. */
  redis: RedisServer;
  /** The sentinel watching it, and its replica. */
  sentinel: RedisSentinelSetup;
}

/** One fault of the schedule. */
export interface FaultStep {
  /** Milliseconds after the start of the run. */
  at: number;
  name: string;
  /** Token endpoint rules added at `at` (and removed after `forMs`, if given), made then. */
  rules?: () => FaultRule[];
  /** Something else to do at `at`, e.g. to Redis; its result undoes it after `forMs`. */
  act?: (targets: FaultTargets) => Promise<(() => Promise<void> | void) | void>;
  /** How long the fault lasts; without it, rules last until their `times` run out. */
  forMs?: number;
}

/** A step as it happened. */
export interface FaultEvent {
  readonly at: number;
  readonly name: string;
  /** Requests the step's rules applied to so far; undefined for a step without rules. */
  readonly hits: number | undefined;
}

const [contoso, fabrikam] = TENANTS;

/** The soak's schedule; the first fault comes after warm-up. */
export const FAULT_SCHEDULE: readonly FaultStep[] = [
  { at: 26_000, name: "503 burst (12 requests)", rules: () => [{ fault: { kind: "status", status: 503 }, times: 12 }] },
  {
    at: 33_000,
    name: "429 Retry-After: 2 for fabrikam (6 requests)",
    rules: () => [{ match: { tenant: fabrikam?.id ?? "" }, fault: { kind: "status", status: 429, retryAfter: 2 }, times: 6 }],
  },
  { at: 40_000, name: "1.5 s latency on half the requests, 10 s", rules: () => [{ fault: { kind: "latency", ms: 1_500 }, probability: 0.5 }], forMs: 10_000 },
  { at: 52_000, name: "connection reset (6 requests)", rules: () => [{ fault: { kind: "reset" }, times: 6 }] },
  {
    at: 58_000,
    name: "malformed JSON, HTML error page, wrong Content-Type (4 + 4 + 3 requests)",
    rules: () => [
      { fault: { kind: "malformed-json" }, times: 4 },
      { fault: { kind: "html", status: 502 }, times: 4 },
      { fault: { kind: "wrong-content-type" }, times: 3 },
    ],
  },
  { at: 64_000, name: "hang (3 requests)", rules: () => [{ fault: { kind: "hang" }, times: 3 }] },
  {
    at: 70_000,
    name: "Redis frozen (SIGSTOP) for 5 s",
    forMs: 5_000,
    act: ({ redis }) => {
      redis.pause();
      return Promise.resolve(() => redis.resume());
    },
  },
  { at: 80_000, name: "500 on 30% of requests, 8 s", rules: () => [{ fault: { kind: "status", status: 500 }, probability: 0.3 }], forMs: 8_000 },
  {
    at: 92_000,
    name: "Redis killed, down 2 s, restarted empty",
    act: async ({ redis }) => {
      await redis.stop();
      await sleep(2_000);
      await redis.restart();
    },
  },
  {
    at: 95_000,
    name: "Redis master killed for good: the sentinel promotes the replica",
    act: async ({ sentinel }) => {
      await sentinel.master.kill();
      await sentinel.waitForFailover(sentinel.master.port, 30_000);
    },
  },
  {
    at: 100_000,
    name: "oversized body (2 requests), 503 burst for contoso (8 requests)",
    rules: () => [
      { fault: { kind: "oversized" }, times: 2 },
      { match: { tenant: contoso?.id ?? "" }, fault: { kind: "status", status: 503 }, times: 8 },
    ],
  },
  {
    at: 110_000,
    name: "429 with an HTTP-date Retry-After 3 s ahead (4 requests)",
    rules: () => [{ fault: { kind: "status", status: 429, retryAfter: new Date(Date.now() + 3_000) }, times: 4 }],
  },
  // Longer than the 7.5 s between a token's refresh point and the end of its usable
  // time: cached tokens are served stale, up to their expiry, until it ends.
  { at: 116_000, name: "token endpoint down (every request 503) for 10 s", rules: () => [{ fault: { kind: "status", status: 503 } }], forMs: 10_000 },
];

/**
 * Runs the schedule from `startAt` until every step is done (undone where it has a
 * duration); resolves what happened. An `act` that throws ends the soak with its error.
 */
export async function runFaultSchedule(
  schedule: readonly FaultStep[],
  targets: FaultTargets,
  startAt: number,
  progress: (line: string) => void,
): Promise<FaultEvent[]> {
  return Promise.all(
    schedule.map(async (step) => {
      await sleep(Math.max(0, startAt + step.at - Date.now()));
      progress(`+${Math.round((Date.now() - startAt) / 1000)} s: ${step.name}`);
      const handles: FaultHandle[] = (step.rules?.() ?? []).map((rule) => targets.emulator.faults.add(rule));
      const undo = await step.act?.(targets);
      if (step.forMs !== undefined) {
        await sleep(step.forMs);
        for (const handle of handles) handle.remove();
        await undo?.();
        progress(`+${Math.round((Date.now() - startAt) / 1000)} s: end of ${step.name}`);
      }
      return {
        at: step.at,
        name: step.name,
        get hits() {
          return step.rules === undefined ? undefined : handles.reduce((sum, handle) => sum + handle.hits, 0);
        },
      };
    }),
  );
}

import { randomUUID } from "node:crypto";

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes; resolves whether it did.
 * Stores may notice an expiry late (a file store on its next read, Redis on its own
 * clock), so the suite polls instead of sleeping a fixed time.
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** A key no other test uses, so suites can share a backend (one Redis, one directory). */
export function randomKey(label = "key"): string {
  return `conformance:${label}:${randomUUID()}`;
}

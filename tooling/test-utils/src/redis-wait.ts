import type { RedisReply } from "./redis-server.js";

/** One `name:value` line of an INFO-style reply. */
export function infoField(reply: RedisReply, name: string): string | undefined {
  return new RegExp(`^${name}:(.*?)\\r?$`, "m").exec(String(reply))?.[1];
}

/** Polls `check` until it holds; a check that throws (a node still starting) counts as not yet. */
export async function until(timeoutMs: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

import { inspect } from "node:util";
import { expect } from "vitest";

/**
 * Every way an error gets printed — `util.inspect` (hidden fields too), `JSON.stringify`,
 * `String()`, the message and stack — down its `cause` chain.
 */
export function renderings(error: unknown): string {
  const out: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    out.push(inspect(current, { depth: 20, showHidden: true }), JSON.stringify(current) ?? "");
    if (current instanceof Error) out.push(current.toString(), current.message, current.stack ?? "");
    current = (current as { cause?: unknown }).cause;
  }
  return out.join("\n");
}

/** Asserts that no rendering of `error` holds any of `values`, raw or percent-encoded. */
export function expectNoneOf(values: readonly string[], error: unknown): void {
  const text = renderings(error);
  for (const value of values) {
    expect(text).not.toContain(value);
    expect(text).not.toContain(encodeURIComponent(value));
  }
}

import { inspect } from "node:util";
import { needlesOf } from "@daemon-auth/vitest-config/secret-scan";

/**
 * Every way a value can end up in a log line, keyed by kind: `JSON.stringify`,
 * `util.inspect` (showHidden, depth Infinity — what `console.log` shows, and more),
 * `util.inspect` with custom inspectors turned off (what a debugger or a careless
 * logger shows), the JSON of its own enumerable properties (what `{ ...value }`
 * copies) and `String()`.
 *
 * @example
 * assertNoSecretIn(renderings(credential), ["s3cr3t"]);
 */
export function renderings(value: unknown): Record<string, string> {
  return {
    json: attempt(() => String(JSON.stringify(value))),
    inspect: attempt(() => inspect(value, { showHidden: true, depth: Infinity })),
    inspectRaw: attempt(() => inspect(value, { showHidden: true, depth: Infinity, customInspect: false, getters: true })),
    spread: attempt(() =>
      typeof value === "object" && value !== null ? String(JSON.stringify({ ...value })) : String(JSON.stringify(value)),
    ),
    string: attempt(() => String(value)),
  };
}

/**
 * {@link renderings} of an error, plus what error logging prints: the message, the stack
 * and each `cause` down the chain (message and inspection), where a wrapped library
 * error could carry what the outer message left out.
 *
 * @example
 * assertNoSecretIn(errorRenderings(error), [secret]);
 */
export function errorRenderings(error: unknown): Record<string, string> {
  const outputs: Record<string, string> = { ...renderings(error) };
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    const prefix = depth === 0 ? "error" : `cause ${depth}`;
    outputs[`${prefix}.message`] = current.message;
    outputs[`${prefix}.stack`] = current.stack ?? "";
    if (depth > 0) outputs[`${prefix}.inspect`] = attempt(() => inspect(current, { showHidden: true, depth: Infinity }));
    current = current.cause;
  }
  return outputs;
}

/**
 * Throws if any of `secrets` occurs in any of `outputs`. Besides the secret as is, it
 * looks for the forms a leak takes in practice: JSON-escaped, `util.inspect`-escaped,
 * URL-encoded (a leaked form body) and, for multi-line secrets such as a PEM, each
 * line on its own (`util.inspect` splits long strings at newlines). The message says
 * only where the leak is, never the secret.
 *
 * @param outputs - what to search, keyed by where it came from (`"inspect"`, `"error.message"`, …).
 * @param secrets - every secret string to look for; empty strings are refused.
 */
export function assertNoSecretIn(outputs: Record<string, string>, secrets: readonly string[]): void {
  const leaks: string[] = [];
  secrets.forEach((secret, index) => {
    if (typeof secret !== "string" || secret.length === 0) {
      throw new TypeError(
        `assertNoSecretIn: secret #${index} is empty or not a string; list only the non-empty secret strings the subject holds.`,
      );
    }
    for (const [where, output] of Object.entries(outputs)) {
      for (const needle of needlesOf(secret)) {
        if (output.includes(needle.text)) {
          leaks.push(`secret #${index}${needle.form === "as is" ? "" : ` (${needle.form})`} appears in ${JSON.stringify(where)}`);
          break;
        }
      }
    }
  });
  if (leaks.length > 0) {
    throw new Error(`Secret material leaked: ${leaks.join("; ")}.`);
  }
}

function attempt(render: () => string): string {
  try {
    return render();
  } catch (error) {
    // A value that cannot be rendered cannot leak through that rendering.
    return `<render threw ${error instanceof Error ? error.name : typeof error}>`;
  }
}

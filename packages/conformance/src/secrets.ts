import { inspect } from "node:util";

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

interface Needle {
  readonly form: string;
  readonly text: string;
}

// Lines shorter than this are too likely to occur by chance (and PEM armour lines
// such as "-----END PRIVATE KEY-----" are not secret), so they are not searched alone.
const MIN_LINE_NEEDLE = 16;

function needlesOf(secret: string): Needle[] {
  const needles: Needle[] = [
    { form: "as is", text: secret },
    { form: "JSON-escaped", text: JSON.stringify(secret).slice(1, -1) },
    { form: "URL-encoded", text: encodeURIComponent(secret) },
  ];
  if (!secret.includes("\n")) {
    needles.push({ form: "inspect-escaped", text: inspect(secret).slice(1, -1) });
  }
  const lines = secret.split(/\r?\n/);
  if (lines.length > 1) {
    lines.forEach((line, lineIndex) => {
      const text = line.trim();
      if (text.length >= MIN_LINE_NEEDLE && !text.startsWith("-----")) {
        needles.push({ form: `line ${lineIndex + 1}`, text });
      }
    });
  }
  const seen = new Set<string>();
  return needles.filter((needle) => needle.text.length > 0 && !seen.has(needle.text) && seen.add(needle.text));
}

function attempt(render: () => string): string {
  try {
    return render();
  } catch (error) {
    // A value that cannot be rendered cannot leak through that rendering.
    return `<render threw ${error instanceof Error ? error.name : typeof error}>`;
  }
}

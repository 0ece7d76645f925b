// Finding secrets in text: the forms a leak takes in practice, and a scan that stays
// linear in the size of the text however many secrets a test run used.
import { readFileSync } from "node:fs";
import { inspect } from "node:util";

/** The environment variable naming the secret ledger file of a test run. */
export const SECRET_LEDGER_ENV = "DAEMON_AUTH_SECRET_LEDGER";

// Lines shorter than this are too likely to occur by chance (and PEM armour lines
// such as "-----END PRIVATE KEY-----" are not secret), so they are not searched alone.
const MIN_LINE_NEEDLE = 16;

/**
 * The forms a leaked `secret` takes: as is, JSON-escaped, URL-encoded (a leaked form
 * body), `util.inspect`-escaped and, for multi-line secrets such as a PEM, each long
 * line on its own (`util.inspect` splits long strings at newlines).
 *
 * @param {string} secret
 * @returns {{ form: string; text: string }[]}
 */
export function needlesOf(secret) {
  const needles = [
    { form: "as is", text: secret },
    { form: "JSON-escaped", text: JSON.stringify(secret).slice(1, -1) },
    { form: "URL-encoded", text: encodeURIComponent(secret) },
  ];
  if (!secret.includes("\n")) needles.push({ form: "inspect-escaped", text: inspect(secret).slice(1, -1) });
  const lines = secret.split(/\r?\n/);
  if (lines.length > 1) {
    lines.forEach((line, index) => {
      const text = line.trim();
      if (text.length >= MIN_LINE_NEEDLE && !text.startsWith("-----")) needles.push({ form: `line ${index + 1}`, text });
    });
  }
  const seen = new Set();
  return needles.filter((needle) => needle.text.length > 0 && !seen.has(needle.text) && seen.add(needle.text));
}

/** Ledger values shorter than this are skipped: they would match ordinary text by chance. */
export const MIN_LEDGER_SECRET = 12;

/**
 * The entries of a secret ledger: one JSON object `{ kind, value }` per line. Unreadable
 * lines (a writer killed mid-line) and values under {@link MIN_LEDGER_SECRET} are skipped.
 *
 * @param {string} path
 * @returns {{ kind: string; value: string }[]}
 */
export function readLedger(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const entries = [];
  for (const line of text.split("\n")) {
    try {
      const entry = JSON.parse(line);
      if (typeof entry?.kind === "string" && typeof entry.value === "string" && entry.value.length >= MIN_LEDGER_SECRET) entries.push(entry);
    } catch {
      // An empty or torn line.
    }
  }
  return entries;
}

const PREFIX = MIN_LEDGER_SECRET;

/**
 * A scanner for many secrets at once: every needle of every secret is indexed by its
 * first characters, so a scan reads the text once.
 *
 * @param {{ kind: string; value: string }[]} entries
 * @returns {(text: string) => { kind: string; form: string }[]} the kinds (and forms) found in `text`
 */
export function secretScanner(entries) {
  /** @type {Map<string, { kind: string; form: string; text: string }[]>} */
  const index = new Map();
  for (const { kind, value } of entries) {
    for (const needle of needlesOf(value)) {
      if (needle.text.length < PREFIX) continue;
      const key = needle.text.slice(0, PREFIX);
      const list = index.get(key) ?? [];
      if (!list.some((known) => known.text === needle.text)) list.push({ kind, ...needle });
      index.set(key, list);
    }
  }
  return (text) => {
    const found = new Map();
    if (index.size === 0) return [];
    for (let at = 0; at + PREFIX <= text.length; at++) {
      const candidates = index.get(text.slice(at, at + PREFIX));
      if (candidates === undefined) continue;
      for (const needle of candidates) {
        if (text.startsWith(needle.text, at)) found.set(`${needle.kind}\u0000${needle.form}`, { kind: needle.kind, form: needle.form });
      }
    }
    return [...found.values()];
  };
}

/**
 * Keeps secret-holding objects out of `JSON.stringify`, `String()` and Node's
 * `util.inspect`, without importing `node:util` (core runs on any runtime).
 */

const inspectCustom = Symbol.for("nodejs.util.inspect.custom");

/**
 * Makes `target` print as `description` everywhere it could be printed: `toString`,
 * `toJSON` (so `JSON.stringify`) and `util.inspect` (so `console.log`). The
 * properties are non-enumerable, so spreading the object does not copy them.
 *
 * @example
 * return redacted({ kind: "secret", getAuthentication }, "ClientSecretCredential(***)");
 */
export function redacted<T extends object>(target: T, description: string): T {
  const describe = (): string => description;
  Object.defineProperty(target, "toString", { value: describe, enumerable: false, configurable: true });
  return printsAs(target, describe);
}

/**
 * Makes `target` (an object, or a class's prototype so its instances carry nothing extra)
 * print as what `describe` returns, called on the printed object: in `toJSON` (so
 * `JSON.stringify`) and `util.inspect` (so `console.log`). Non-enumerable, so spreading
 * the object does not copy them.
 */
export function printsAs<T extends object>(target: T, describe: (this: T) => unknown): T {
  const printer = { value: describe, enumerable: false, configurable: true };
  Object.defineProperties(target, { toJSON: printer, [inspectCustom]: printer });
  return target;
}

/** What replaces a secret in printed objects and echoed server text. */
export const REDACTION = "[redacted]";
/**
 * Shorter values are not searched for: they would match ordinary words of a server's
 * text, and a secret that short is no secret.
 */
const MIN_SECRET_LENGTH = 6;
/** Three base64url segments opening with `{"`: a client assertion or an access token. */
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;

/** The forms a sent value takes on the wire, and so in a server's echo of it. */
function wireForms(value: string): string[] {
  const forms = new Set([value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)]);
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/**
 * True when `text` contains one of the `sent` values (in any of its wire encodings) or
 * something shaped like a JWT: text a server echoed from the request.
 */
export function hasEcho(text: string, sent: readonly string[]): boolean {
  JWT_SHAPE.lastIndex = 0;
  return JWT_SHAPE.test(text) || sent.some((value) => wireForms(value).some((form) => text.includes(form)));
}

/**
 * Server text as it may be kept on an error: every `sent` value (raw, percent- and
 * form-encoded) and anything JWT-shaped replaced by `[redacted]`, then cut to `max`
 * characters. Redaction comes first, so the cut cannot leave half a secret behind.
 *
 * @example
 * redactEchoes("bad secret s3cr3t-value", ["s3cr3t-value"], 2000); // "bad secret [redacted]"
 */
export function redactEchoes(text: string, sent: readonly string[], max: number): string {
  let cleaned = text.replace(JWT_SHAPE, REDACTION);
  // Longest first: a value's encoded form may contain the raw one.
  const forms = sent.flatMap(wireForms).sort((a, b) => b.length - a.length);
  for (const form of forms) cleaned = cleaned.split(form).join(REDACTION);
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

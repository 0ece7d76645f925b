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
  const describe = { value: () => description, enumerable: false, configurable: true };
  Object.defineProperties(target, {
    toString: describe,
    toJSON: describe,
    [inspectCustom]: describe,
  });
  return target;
}

// The emulator's configuration error and the field checks every validator uses
// (directory entries, fault rules, run-time options), so that every message has
// one shape: `<field path>: <what is wrong>; <what to do>`. A leaf module.

/** Thrown for an invalid emulator configuration or run-time change; the message names the field and the fix. */
export class EmulatorConfigError extends Error {
  /** Stable code for programmatic checks. */
  readonly code = "ERR_EMULATOR_CONFIG";
  /** Path of the offending field, e.g. `applications[1].homeTenant`. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = "EmulatorConfigError";
    this.field = field;
  }
}

/** A JSON object under validation. */
export type Json = Record<string, unknown>;

/** Names a value's kind for a message, without printing more than a string's text. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? JSON.stringify(value) : `a ${typeof value}`;
}

/** An object whose keys are all `known` (`$schema` is allowed for editor support). */
export function expectObject(value: unknown, field: string, known: readonly string[]): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EmulatorConfigError(field, `expected an object, got ${describe(value)}.`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key) && key !== "$schema") {
      throw new EmulatorConfigError(
        `${field}.${key}`.replace(/^\./, ""),
        `unknown field; remove it or fix its spelling (known fields: ${known.join(", ")}).`,
      );
    }
  }
  return value as Json;
}

/** A non-blank string; `hint` says what it should be. */
export function expectString(value: unknown, field: string, hint: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new EmulatorConfigError(field, `expected ${hint}, got ${describe(value)}.`);
  }
  return value;
}

/** {@link expectString}, or undefined when absent. */
export function optionalString(value: unknown, field: string, hint: string): string | undefined {
  return value === undefined ? undefined : expectString(value, field, hint);
}

export function expectArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new EmulatorConfigError(field, `expected an array, got ${describe(value)}.`);
  return value;
}

/** A whole number from `min` to `max`; `hint` says what it counts. */
export function expectInteger(value: unknown, field: string, min: number, max: number, hint: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new EmulatorConfigError(field, `expected ${hint}, got ${typeof value === "number" ? String(value) : describe(value)}.`);
  }
  return value;
}

import { DaemonAuthError } from "../errors.js";

/**
 * An error as a log field: core's own errors by code and message (they never hold a
 * secret), anything else by its name only, since a foreign message may quote one.
 */
export function describeError(error: unknown): string {
  if (error instanceof DaemonAuthError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.name;
  return "unknown error";
}

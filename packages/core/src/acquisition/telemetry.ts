import type { Logger } from "../seams.js";
import { DaemonAuthError, ServerError } from "../errors.js";
import { describeError } from "../lib/describe-error.js";

/** Runs a telemetry hook; one that throws is logged and otherwise ignored: a telemetry bug must not cost a token. */
export function callHook(logger: Logger | undefined, name: string, call: () => void): void {
  try {
    call();
  } catch (error) {
    logger?.warn?.(`daemon-auth: the ${name} telemetry hook threw`, { error: describeError(error) });
  }
}

/** What telemetry may say about a failure: its code and AADSTS codes, never its text. */
export function errorFields(error: unknown): { readonly errorCode: string; readonly errorCodes: readonly number[] } {
  return {
    errorCode: error instanceof DaemonAuthError ? error.code : "ERR_UNKNOWN",
    errorCodes: error instanceof ServerError ? error.errorCodes : [],
  };
}

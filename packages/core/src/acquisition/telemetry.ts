import type { AccessTokenResult } from "../client-types.js";
import type { Logger, TelemetryHooks } from "../seams.js";
import { DaemonAuthError, ServerError } from "../errors.js";
import { describeError } from "../lib/describe-error.js";

/** Runs a telemetry hook; one that throws is logged and otherwise ignored: a telemetry bug must not cost a token. */
export function callHook(logger: Logger | undefined, name: string, call: () => void): void {
  try {
    call();
  } catch (error) {
    hookThrew(logger, name, error);
  }
}

function hookThrew(logger: Logger | undefined, name: string, error: unknown): void {
  logger?.warn?.(`daemon-auth: the ${name} telemetry hook threw`, { error: describeError(error) });
}

/** What telemetry may say about a failure: its code and AADSTS codes, never its text. */
export function errorFields(error: unknown): { readonly errorCode: string; readonly errorCodes: readonly number[] } {
  return {
    errorCode: error instanceof DaemonAuthError ? error.code : "ERR_UNKNOWN",
    errorCodes: error instanceof ServerError ? error.errorCodes : [],
  };
}

/**
 * An acquisition started at `started` (`performance.now()`), reported to `onAcquire` or
 * `onAcquireError` (a hook that throws is logged and ignored); `cacheKey` names the key of
 * the token it returned. On a cache hit this builds the event, its `expiresOn` and the key.
 */
export async function acquireReporting(
  telemetry: TelemetryHooks,
  logger: Logger | undefined,
  started: number,
  acquisition: Promise<AccessTokenResult>,
  cacheKey: (result: AccessTokenResult) => string,
): Promise<AccessTokenResult> {
  let result: AccessTokenResult;
  try {
    result = await acquisition;
  } catch (error) {
    if (telemetry.onAcquireError !== undefined) {
      const fields = errorFields(error);
      callHook(logger, "onAcquireError", () => telemetry.onAcquireError?.({ durationMs: performance.now() - started, ...fields }));
    }
    throw error;
  }
  if (telemetry.onAcquire !== undefined) {
    try {
      const expiresOn = result.expiresOn;
      telemetry.onAcquire({
        source: result.source,
        durationMs: performance.now() - started,
        cacheKey: cacheKey(result),
        expiresOn,
        expiresOnTimestamp: expiresOn.getTime(),
      });
    } catch (error) {
      hookThrew(logger, "onAcquire", error);
    }
  }
  return result;
}

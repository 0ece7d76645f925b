/**
 * `@daemon-auth/core/adapter`: what a package that plugs into the client (a cache store,
 * a credential, a transport) needs to behave like the rest of daemon-auth: options
 * checked in one dialect ({@link optionChecks}: `"<factory>: '<option>' must …"`, a
 * `ConfigurationError` that says what to pass instead), aborts that end waits with an
 * `AbortError`, and response bodies read with a size cap.
 *
 * @example
 * import { optionChecks, throwIfAborted } from "@daemon-auth/core/adapter";
 * const check = optionChecks("createFooCache");
 * const timeoutMs = check.milliseconds("timeoutMs", options.timeoutMs, 500);
 */
export { optionChecks, type OptionChecks } from "./lib/option-checks.js";
export { printable, printableValue } from "./lib/validation.js";
export { raceAbort, readBodyUpTo, throwIfAborted } from "./lib/http.js";

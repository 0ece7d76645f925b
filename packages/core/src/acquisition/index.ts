/**
 * `@daemon-auth/core/acquisition`: the acquisition machinery, for token-source authors.
 *
 * A package that gets tokens from somewhere other than the client credentials grant (a
 * managed identity endpoint, a token sidecar) supplies only a {@link TokenFetcher}; the
 * {@link TokenAcquirer} around it gives it everything `createDaemonClient` has: the
 * allocation-free in-process index, single-flight per key, remembered permanent failures
 * and `Retry-After` pauses, the shared store with its cross-process lock and store
 * deadline, a proactive background refresh, serve-stale when a refresh fails, and the
 * lifetime cap on every token. Options are checked by {@link resolveAcquisitionSettings}
 * with the same messages as the client's, in the name of the factory you pass it
 * (`"createImdsClient: 'requestTimeoutMs' must …"`).
 *
 * @example
 * import { resolveAcquisitionSettings, TokenAcquirer, type TokenFetcher } from "@daemon-auth/core/acquisition";
 * const settings = resolveAcquisitionSettings({ cache, logger }, "createImdsClient");
 * const acquirer = new TokenAcquirer(imdsFetcher, settings);
 * const hit = acquirer.cached(IMDS_TENANT, scope);
 * const result = hit ?? (await acquirer.acquire(acquirer.target(IMDS_TENANT, [scope]), { signal }));
 */
export { TokenAcquirer } from "./token-acquirer.js";
export type { AcquireOptions } from "./acquire-options.js";
export type { FetchedToken, TokenFetchContext, TokenFetcher } from "./token-fetcher.js";
export type { TokenTarget } from "./token-target.js";
export { resolveAcquisitionSettings, type AcquisitionOptions, type AcquisitionSettings } from "./settings.js";
export type { LifetimePolicy } from "../lib/cached-token.js";
// A fetcher's retry loop waits, times out and reads Retry-After, and a client reports
// telemetry, as core's own client does.
export { parseRetryAfter, sleepOn, withDeadline, type DeadlineSignal } from "../lib/http.js";
export { acquireReporting, callHook, errorFields } from "./telemetry.js";

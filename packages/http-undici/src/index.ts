import { CLOUD_AUTHORITY_HOSTS } from "@daemon-auth/core";
export { createUndiciTransport, type UndiciTransport, type UndiciTransportOptions } from "./transport.js";
export { createApiFetch, type ApiFetchOptions, type FetchFunction } from "./api-fetch.js";
export { createApiInterceptor, type ApiInterceptorOptions } from "./api-interceptor.js";
export type { ApiAuthOptions, ConsentOptions } from "./lib/api-auth.js";
export { ConsentRequiredError, type ConsentRequiredDetails } from "./consent-required-error.js";
export { parseWwwAuthenticate, type WwwAuthenticateChallenge } from "./www-authenticate.js";
// The admin consent URL and callback live in `@daemon-auth/core/protocol`, beside core's
// cloud table; this package keeps exporting them so existing imports keep working.
export {
  buildAdminConsentUrl,
  parseAdminConsentCallback,
  type AdminConsentUrlOptions,
  type AdminConsentCallbackOptions,
  type AdminConsentResult,
} from "@daemon-auth/core/protocol";

/**
 * The public cloud's sign-in host.
 * @deprecated Use `CLOUD_AUTHORITY_HOSTS.public` from `@daemon-auth/core`.
 */
export const DEFAULT_AUTHORITY_HOST: string = CLOUD_AUTHORITY_HOSTS.public;

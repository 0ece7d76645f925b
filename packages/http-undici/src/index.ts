export { createUndiciTransport, type UndiciTransport, type UndiciTransportOptions } from "./transport.js";
export { createApiFetch, type ApiFetchOptions, type FetchFunction } from "./api-fetch.js";
export { createApiInterceptor, type ApiInterceptorOptions } from "./api-interceptor.js";
export type { ApiAuthOptions, ConsentOptions } from "./lib/api-auth.js";
export { ConsentRequiredError, type ConsentRequiredDetails } from "./consent-required-error.js";
export { parseWwwAuthenticate, type WwwAuthenticateChallenge } from "./www-authenticate.js";
export {
  buildAdminConsentUrl,
  parseAdminConsentCallback,
  DEFAULT_AUTHORITY_HOST,
  type AdminConsentUrlOptions,
  type AdminConsentCallbackOptions,
  type AdminConsentResult,
} from "./admin-consent.js";

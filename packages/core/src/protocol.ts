/**
 * `@daemon-auth/core/protocol`: the wire rules core applies to every server answer, for
 * packages that talk to the same servers (the CLI's `doctor`, adapters) and must treat
 * their answers the same way: error responses parsed with the same caps and echo
 * redaction, metadata documents fetched without following redirects, tenant and GUID
 * identifiers read the same way, and the admin consent URL and its callback.
 *
 * @example
 * import { fetchMetadataDocument, parseErrorResponse } from "@daemon-auth/core/protocol";
 * const { status, body } = await fetchMetadataDocument(url, transport, { timeoutMs: 10_000 });
 * const refusal = status !== 200 && body !== undefined ? parseErrorResponse(body, status) : undefined;
 */
import { InvalidRequestError } from "./errors.js";
import { checkTenant } from "./lib/validation.js";

export { isGuid } from "./errors.js";
export { globalOriginOfRegional } from "./lib/authority.js";
export { redactEchoes } from "./redacted.js";
export { MAX_RESPONSE_BYTES, readJsonObject, refuseRedirect } from "./lib/http.js";
export { MAX_EXPIRES_IN_SECONDS, parseErrorResponse, parseTokenResponse, type TokenResponse } from "./lib/token-response.js";
export { discoverMetadata, fetchMetadataDocument, type MetadataDocument, type ServerMetadata } from "./lib/discovery.js";
export {
  buildAdminConsentUrl,
  parseAdminConsentCallback,
  type AdminConsentUrlOptions,
  type AdminConsentCallbackOptions,
  type AdminConsentResult,
} from "./lib/admin-consent-url.js";

/**
 * A tenant id as core keys and sends it: a GUID or a verified domain name, in lower case
 * (both are case-insensitive, so `CONTOSO.onmicrosoft.com` and `contoso.onmicrosoft.com`
 * are one tenant).
 *
 * @throws {InvalidRequestError} for anything else, and for `common`, `organizations`
 * and `consumers`, which name no single tenant.
 * @example
 * normalizeTenantId("CONTOSO.onmicrosoft.com"); // "contoso.onmicrosoft.com"
 */
export function normalizeTenantId(tenant: string): string {
  return checkTenant(tenant, "The tenant", (message) => new InvalidRequestError(message));
}

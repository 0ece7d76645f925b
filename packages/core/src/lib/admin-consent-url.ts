/**
 * The admin consent endpoint of the Microsoft identity platform: build the URL a tenant
 * admin opens to grant the app its application permissions, and read the redirect that
 * comes back. Pure: no I/O, so any package (the CLI, http-undici's consent errors, a
 * multi-tenant app's onboarding) builds and reads it the same way, through
 * `@daemon-auth/core/protocol`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
 */
import { ConfigurationError, InvalidResponseError } from "../errors.js";
import { CLOUD_AUTHORITY_HOSTS } from "./authority.js";

/** The public cloud's sign-in host, from core's cloud table: where admins consent unless told otherwise. */
const DEFAULT_AUTHORITY_HOST = CLOUD_AUTHORITY_HOSTS.public;

/** Options of {@link buildAdminConsentUrl}. */
export interface AdminConsentUrlOptions {
  /**
   * The tenant to ask: a GUID or verified domain, or `"common"`/`"organizations"` to let
   * any work-or-school admin sign in and consent for their own tenant (multi-tenant apps).
   */
  tenantId: string;
  /** The application (client) id that needs consent. */
  clientId: string;
  /**
   * Where the endpoint redirects after the admin answers; it must be registered on the
   * app. @default none (the app's registered default is used)
   */
  redirectUri?: string;
  /** An opaque value echoed back on the redirect; check it to tie the answer to your request. @default none */
  state?: string;
  /**
   * The sign-in host: another cloud (`https://login.microsoftonline.us`,
   * `https://login.chinacloudapi.cn`) or the emulator's base URL.
   * @default "https://login.microsoftonline.com"
   */
  authorityHost?: string;
}

/**
 * The admin consent URL for an app in a tenant:
 * `{authorityHost}/{tenant}/adminconsent?client_id=…&redirect_uri=…&state=…`.
 *
 * @throws {ConfigurationError} when the tenant, client id, redirect URI or host is malformed.
 *
 * @example
 * buildAdminConsentUrl({ tenantId: "contoso.onmicrosoft.com", clientId: "00000000-0000-0000-0000-000000000001" })
 * // → "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=00000000-…"
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-admin-consent#request-the-permissions-from-a-directory-admin
 */
export function buildAdminConsentUrl(options: AdminConsentUrlOptions): string {
  const { tenantId, clientId, redirectUri, state } = options;
  if (typeof tenantId !== "string" || !TENANT.test(tenantId)) {
    throw new ConfigurationError(
      "buildAdminConsentUrl: tenantId must be a tenant GUID, a verified domain (contoso.onmicrosoft.com), \"common\" or \"organizations\".",
    );
  }
  if (tenantId.toLowerCase() === "consumers") {
    throw new ConfigurationError(
      "buildAdminConsentUrl: personal Microsoft accounts have no admin; use the organization's tenant id, \"organizations\" or \"common\".",
    );
  }
  if (typeof clientId !== "string" || clientId.trim() === "" || /[\s/?#]/.test(clientId)) {
    throw new ConfigurationError("buildAdminConsentUrl: clientId must be the application (client) id of the app registration.");
  }
  const host = parseHost(options.authorityHost ?? DEFAULT_AUTHORITY_HOST);
  const query = new URLSearchParams({ client_id: clientId });
  if (redirectUri !== undefined) {
    if (!isAbsoluteHttpUrl(redirectUri)) {
      throw new ConfigurationError(
        "buildAdminConsentUrl: redirectUri must be an absolute http(s) URL registered as a redirect URI on the app.",
      );
    }
    query.set("redirect_uri", redirectUri);
  }
  if (state !== undefined) {
    if (typeof state !== "string" || state === "") {
      throw new ConfigurationError("buildAdminConsentUrl: state must be a non-empty string, or left out.");
    }
    query.set("state", state);
  }
  return `${host}/${encodeURIComponent(tenantId)}/adminconsent?${query.toString()}`;
}

/** The outcome of an admin consent redirect, from {@link parseAdminConsentCallback}. */
export type AdminConsentResult =
  | {
      /** The admin granted the app's permissions. */
      readonly granted: true;
      /** The tenant the admin consented for (its GUID). */
      readonly tenant: string;
      /** The `state` sent with the request, echoed back. */
      readonly state: string | undefined;
    }
  | {
      /** The admin declined, or the endpoint failed. */
      readonly granted: false;
      /** The OAuth 2.0 error, e.g. `"access_denied"` or `"permission_denied"`. */
      readonly error: string;
      /** The endpoint's human-readable explanation, when sent. */
      readonly errorDescription: string | undefined;
      /** The `state` sent with the request, echoed back. */
      readonly state: string | undefined;
    };

/** Options of {@link parseAdminConsentCallback}. */
export interface AdminConsentCallbackOptions {
  /**
   * The `state` you put in the consent URL. When given, a callback with another state is
   * refused: it was not the answer to your request. @default not checked
   */
  expectedState?: string;
}

/**
 * Reads the redirect the admin consent endpoint sent back: success is
 * `?admin_consent=True&tenant={tid}&state={s}`, failure is
 * `?error=…&error_description=…&state={s}`.
 *
 * @param callback The full redirect URL, its query string, or its parsed search params.
 * @throws {InvalidResponseError} when the input is not an admin consent redirect, or its
 *   state does not match `options.expectedState`.
 *
 * @example
 * const result = parseAdminConsentCallback(req.url!, { expectedState: state });
 * if (!result.granted) console.error(`consent refused: ${result.error}`);
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-admin-consent#successful-response
 */
export function parseAdminConsentCallback(
  callback: string | URL | URLSearchParams,
  options: AdminConsentCallbackOptions = {},
): AdminConsentResult {
  const params = toSearchParams(callback);
  const state = nonEmpty(params.get("state"));
  if (options.expectedState !== undefined && state !== options.expectedState) {
    throw new InvalidResponseError(
      "parseAdminConsentCallback: the callback's state does not match the state of your consent request, so it is not the answer to it. Start the admin consent flow again.",
    );
  }
  const error = nonEmpty(params.get("error"));
  if (error !== undefined) {
    return { granted: false, error, errorDescription: nonEmpty(params.get("error_description")), state };
  }
  const adminConsent = params.get("admin_consent");
  if (adminConsent === null) {
    throw new InvalidResponseError(
      "parseAdminConsentCallback: this is not an admin consent redirect (it has neither admin_consent nor error). Pass the full URL, or its query string, that the consent endpoint redirected to.",
    );
  }
  if (adminConsent.toLowerCase() !== "true") {
    throw new InvalidResponseError(
      "parseAdminConsentCallback: admin_consent must be \"True\" on a successful redirect; the callback is malformed. Start the admin consent flow again.",
    );
  }
  const tenant = params.get("tenant");
  if (tenant === null || !TENANT.test(tenant)) {
    throw new InvalidResponseError(
      "parseAdminConsentCallback: a successful redirect must carry the tenant id the admin consented for; the callback is malformed. Start the admin consent flow again.",
    );
  }
  return { granted: true, tenant, state };
}

/** A GUID, a domain, or a well-known tenant alias: letters, digits, dots and hyphens. */
const TENANT = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$/;

function parseHost(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigurationError(`buildAdminConsentUrl: authorityHost must be an absolute URL such as ${DEFAULT_AUTHORITY_HOST}.`, { cause });
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new ConfigurationError(
      `buildAdminConsentUrl: authorityHost must be an http(s) URL without query, fragment or credentials, such as ${DEFAULT_AUTHORITY_HOST}.`,
    );
  }
  // Keep a path prefix (an emulator mounted under a path) but not its trailing slash.
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function isAbsoluteHttpUrl(value: unknown): boolean {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

function toSearchParams(callback: unknown): URLSearchParams {
  if (callback instanceof URLSearchParams) return callback;
  if (callback instanceof URL) return callback.searchParams;
  if (typeof callback === "string") {
    const text = callback.trim();
    try {
      return new URL(text).searchParams;
    } catch {
      // Not an absolute URL: a relative one (req.url) or a bare query string.
    }
    const queryStart = text.indexOf("?");
    if (queryStart >= 0) return new URLSearchParams(text.slice(queryStart + 1).split("#")[0]);
    if (text.includes("=")) return new URLSearchParams(text);
  }
  throw new InvalidResponseError(
    "parseAdminConsentCallback: expected the redirect URL, its query string or a URLSearchParams; pass what the consent endpoint redirected to.",
  );
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value === "" ? undefined : value;
}

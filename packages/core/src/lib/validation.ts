import { ConfigurationError } from "../errors.js";

/** Tenants that name a group of tenants, not one; the client credentials grant needs one. */
const MULTI_TENANT_ALIASES = new Set(["common", "organizations", "consumers"]);

/** A GUID or a DNS name (verified domain), which is what Entra accepts as a tenant. */
const TENANT_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/;

/**
 * Makes the error a check throws: an {@link OptionChecks}' `error` for an option (so the
 * message starts with the factory's name), a plain `InvalidRequestError` for a request.
 */
export type ErrorMaker = (message: string, options?: { cause?: unknown }) => Error;

const configurationError: ErrorMaker = (message, options) => new ConfigurationError(message, options);

/**
 * Checks a tenant id and returns it in lower case: GUIDs and DNS names are
 * case-insensitive, and one spelling per tenant keeps one cache key per tenant. `source`
 * says where it came from so the message points at the right place; `fail` makes the
 * error (configuration mistakes and per-request mistakes get different classes).
 */
export function checkTenant(tenant: unknown, source: string, fail: ErrorMaker): string {
  if (typeof tenant !== "string" || tenant.length === 0) {
    throw fail(`${source} must be a tenant id (a GUID) or a verified domain such as 'contoso.onmicrosoft.com'.`);
  }
  if (MULTI_TENANT_ALIASES.has(tenant.toLowerCase())) {
    throw fail(
      `${source} is '${tenant}', which names no single tenant: the client credentials grant needs a concrete tenant. ` +
        `Use the tenant's GUID or verified domain (for a multi-tenant app, the customer's tenant).`,
    );
  }
  if (tenant.length > 253 || !TENANT_PATTERN.test(tenant)) {
    throw fail(`${source} '${printable(tenant)}' is not a tenant id: use the tenant's GUID or a verified domain name.`);
  }
  // The caller's own string when it is lower case already: the in-process index keys it,
  // so a hit finds the key by identity rather than comparing another copy's characters.
  const lower = tenant.toLowerCase();
  return lower === tenant ? tenant : lower;
}

/** True for hosts where plain HTTP cannot leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Parses an https URL (http only on loopback) from configuration; `fail` makes the error. */
export function checkServerUrl(value: unknown, option: string, fail: ErrorMaker = configurationError): URL {
  if (typeof value !== "string" || value.length === 0) {
    throw fail(`'${option}' must be an https URL.`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw fail(`'${option}' is not a URL: '${printable(value)}'. Give an absolute https URL.`, { cause });
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw fail(
      `'${option}' must use https (plain http is accepted only for localhost/127.0.0.1): '${url.origin}'.`,
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw fail(`'${option}' must not contain credentials, a query or a fragment: '${url.origin}${url.pathname}'.`);
  }
  return url;
}

/**
 * {@link printable} for a value of any type: strings as text, anything else by its type,
 * since converting an arbitrary object to a string can throw (null prototype, symbol).
 */
export function printableValue(value: unknown, max = 80): string {
  if (typeof value === "string") return printable(value, max);
  return `<${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}>`;
}

/** Keeps user input readable and bounded inside an error message. */
export function printable(value: string, max = 80): string {
  const cleaned = value.replace(/[\u0000-\u001f\u007f]/g, "?");
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

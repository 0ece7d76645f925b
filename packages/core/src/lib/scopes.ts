import { InvalidRequestError } from "../errors.js";
import { printable, printableValue } from "./validation.js";

const DEFAULT_SUFFIX = "/.default";
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);
/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** An absolute URI with an authority: scheme, `://`, authority, then the rest. */
const URI_WITH_AUTHORITY = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is;

/**
 * Validates the scopes of an Entra client credentials request: exactly one
 * resource, as `<resource>/.default`. Returns the normalized (deduplicated) list:
 *
 * - the scheme and host of a URI scope in lower case (they are case-insensitive,
 *   RFC 3986 §6.2.2.1), so `HTTPS://Graph.Microsoft.com/.default` and
 *   `https://graph.microsoft.com/.default` are one token; the path keeps its case;
 * - a v1.0 resource given bare with its trailing `/` (`https://database.windows.net/`,
 *   `https://management.core.windows.net/`) becomes `<resource>/.default`, with the
 *   double slash Entra expects: `https://database.windows.net//.default`. Only URIs
 *   ending in `/` are converted; other bare resources (`https://vault.azure.net`) are
 *   refused with the scope to use, since core cannot tell which form the API registered.
 *
 * @throws {InvalidRequestError} naming the scope to use.
 * @example
 * normalizeEntraScopes(["https://database.windows.net/"]); // ["https://database.windows.net//.default"]
 * normalizeEntraScopes(["HTTPS://Graph.Microsoft.com/.default"]); // ["https://graph.microsoft.com/.default"]
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc#trailing-slash-and-default
 */
export function normalizeEntraScopes(scopes: readonly string[]): readonly string[] {
  const first = normalizeEntraScope(checkList(scopes));
  for (let i = 1; i < scopes.length; i++) {
    const scope = normalizeEntraScope(scopes[i]);
    if (scope === first) continue;
    throw new InvalidRequestError(
      `Request one resource per call: got '${printable(first)}' and '${printable(scope)}'. ` +
        "An app-only token is issued for a single resource; call acquireTokenForClient once per resource.",
    );
  }
  return [first];
}

/**
 * Validates scopes for a generic OAuth 2.0 server: any RFC 6749 scope tokens, kept
 * exactly as given (RFC 6749 §3.3: the server defines them and compares them as
 * strings, case included). Returns them sorted and deduplicated, so the cache key does
 * not depend on order. A string holding several scopes (`"a b"`) is refused: scopes are
 * list items, one per element.
 *
 * @throws {InvalidRequestError} naming the offending scope.
 */
export function normalizeGenericScopes(scopes: readonly string[]): readonly string[] {
  if (!Array.isArray(scopes)) {
    throw new InvalidRequestError("'scopes' must be an array of strings.");
  }
  for (const scope of scopes) {
    if (typeof scope !== "string" || !SCOPE_TOKEN.test(scope)) {
      throw new InvalidRequestError(
        `Scope '${printableValue(scope)}' is not a valid OAuth 2.0 scope token (RFC 6749 §3.3): no spaces, quotes or backslashes.`,
      );
    }
  }
  return [...new Set<string>(scopes)].sort();
}

function checkList(scopes: readonly string[]): unknown {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new InvalidRequestError(
      "'scopes' must hold one '<resource>/.default' scope, for example ['https://graph.microsoft.com/.default'].",
    );
  }
  return scopes[0];
}

/** The normalized form of one Entra scope (see {@link normalizeEntraScopes}), checked. */
function normalizeEntraScope(scope: unknown): string {
  if (typeof scope !== "string") return checkEntraScope(scope);
  let normalized = scope;
  const uri = URI_WITH_AUTHORITY.exec(scope);
  if (uri !== null) {
    normalized = `${(uri[1] as string).toLowerCase()}://${(uri[2] as string).toLowerCase()}${uri[3] as string}`;
    // A bare v1.0 resource: its identifier ends in '/', and Entra wants '<resource>/.default'.
    const rest = uri[3] as string;
    if (rest.endsWith("/") && uri[2] !== "" && !rest.includes("//") && !rest.includes(DEFAULT_SUFFIX)) {
      normalized = `${normalized}${DEFAULT_SUFFIX}`;
    }
  }
  // The caller's own string when nothing changed: every token of the scope shares it, and a
  // hit compares the index's scope key with the caller's by identity.
  return checkEntraScope(normalized === scope ? scope : normalized);
}

function checkEntraScope(scope: unknown): string {
  if (typeof scope !== "string" || scope.length === 0) {
    throw new InvalidRequestError("Each scope must be a non-empty string of the form '<resource>/.default'.");
  }
  if (!SCOPE_TOKEN.test(scope)) {
    throw new InvalidRequestError(`Scope '${printable(scope)}' contains spaces or characters a scope cannot hold.`);
  }
  if (OIDC_SCOPES.has(scope)) {
    throw new InvalidRequestError(
      `Scope '${scope}' is for user sign-in and has no meaning for an app-only token; request only '<resource>/.default'.`,
    );
  }
  if (!scope.endsWith(DEFAULT_SUFFIX) || scope.length === DEFAULT_SUFFIX.length) {
    throw new InvalidRequestError(
      `Scope '${printable(scope)}' is not '<resource>/.default'. App-only tokens carry the application permissions ` +
        `granted to the app, requested as '${suggestDefaultScope(scope)}'.`,
    );
  }
  return scope;
}

/** The `/.default` scope a user most likely meant. */
function suggestDefaultScope(scope: string): string {
  // A v1.0 resource ends with '/', and Entra wants the double slash: 'https://database.windows.net//.default'.
  if (scope.endsWith("/")) return `${scope}/.default`;
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)(\/.*)?$/i.exec(scope);
  if (match) return `${match[1]}${DEFAULT_SUFFIX}`;
  return `${scope.split("/")[0]}${DEFAULT_SUFFIX}`;
}

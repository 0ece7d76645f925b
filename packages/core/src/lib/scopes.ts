import { InvalidRequestError } from "../errors.js";
import { printable, printableValue } from "./validation.js";

const DEFAULT_SUFFIX = "/.default";
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);
/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Validates the scopes of an Entra client credentials request: exactly one
 * resource, as `<resource>/.default`. Returns the normalized (deduplicated) list.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope
 */
export function normalizeEntraScopes(scopes: readonly string[]): readonly string[] {
  const first = checkList(scopes);
  checkEntraScope(first);
  for (let i = 1; i < scopes.length; i++) {
    const scope = scopes[i];
    if (scope === first) continue;
    checkEntraScope(scope);
    throw new InvalidRequestError(
      `Request one resource per call: got '${printable(first)}' and '${printable(scope)}'. ` +
        "An app-only token is issued for a single resource; call acquireTokenForClient once per resource.",
    );
  }
  return [first];
}

/**
 * Validates scopes for a generic OAuth 2.0 server: any RFC 6749 scope tokens.
 * Returns them sorted and deduplicated, so the cache key does not depend on order.
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

function checkList(scopes: readonly string[]): string {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new InvalidRequestError(
      "'scopes' must hold one '<resource>/.default' scope, for example ['https://graph.microsoft.com/.default'].",
    );
  }
  return scopes[0] as string;
}

function checkEntraScope(scope: unknown): asserts scope is string {
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
}

/** The `/.default` scope a user most likely meant. */
function suggestDefaultScope(scope: string): string {
  // A v1.0 resource ends with '/', and Entra wants the double slash: 'https://database.windows.net//.default'.
  if (scope.endsWith("/")) return `${scope}/.default`;
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)(\/.*)?$/i.exec(scope);
  if (match) return `${match[1]}${DEFAULT_SUFFIX}`;
  return `${scope.split("/")[0]}${DEFAULT_SUFFIX}`;
}

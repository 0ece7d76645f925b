import { InvalidRequestError, type AcquireTokenRequest } from "@daemon-auth/core";

const DEFAULT_SUFFIX = "/.default";
/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const SIGN_IN_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

/**
 * The one scope of a managed identity request, as `<resource>/.default`: a managed
 * identity endpoint issues a token for one `resource`, so a request names exactly one,
 * either as `<resource>/.default` or as the bare resource URI (`https://vault.azure.net`).
 * Kept as given otherwise: the resource becomes the token's `aud`.
 *
 * @throws {InvalidRequestError} naming the scope to use.
 */
export function managedIdentityScope(scopes: unknown): string {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new InvalidRequestError("'scopes' must hold one '<resource>/.default' scope, for example ['https://vault.azure.net/.default'].");
  }
  const normalized = new Set(scopes.map(checkScope));
  if (normalized.size > 1) {
    throw new InvalidRequestError(
      `A managed identity token is issued for one resource per call; got ${[...normalized].map((scope) => `'${scope.slice(0, 80)}'`).join(", ")}. ` +
        "Call acquireTokenForClient once per resource, each with one '<resource>/.default' scope.",
    );
  }
  return [...normalized][0] as string;
}

function checkScope(scope: unknown): string {
  if (typeof scope !== "string" || scope.length === 0 || !SCOPE_TOKEN.test(scope)) {
    throw new InvalidRequestError("Each scope must be a '<resource>/.default' string without spaces, for example 'https://vault.azure.net/.default'.");
  }
  if (SIGN_IN_SCOPES.has(scope)) {
    throw new InvalidRequestError(`Scope '${scope}' is for user sign-in; a managed identity token needs '<resource>/.default'.`);
  }
  if (scope === DEFAULT_SUFFIX) {
    throw new InvalidRequestError("Scope '/.default' names no resource; request '<resource>/.default', for example 'https://vault.azure.net/.default'.");
  }
  return scope.endsWith(DEFAULT_SUFFIX) ? scope : `${scope}${DEFAULT_SUFFIX}`;
}

/**
 * The scopes of a request, once it is known to be a request object. A `tenantId` is
 * ignored, as `@azure/identity`'s `ManagedIdentityCredential` ignores it: the platform
 * issues an identity's tokens in its own tenant, and Azure SDK clients pass the tenant of
 * a resource's challenge (Key Vault) that is that tenant anyway.
 */
export function requestScopes(request: AcquireTokenRequest): unknown {
  if (request === null || typeof request !== "object") {
    throw new InvalidRequestError("acquireTokenForClient needs a request: { scopes: ['<resource>/.default'] }.");
  }
  return request.scopes;
}

import { scopeKey, tokenCacheKey } from "../lib/cached-token.js";

/**
 * What one acquisition is for: a tenant and its normalized scopes, with the keys derived
 * from them computed once. Built on the cold path only; a cache hit looks the raw tenant
 * and scope strings up and builds no target.
 */
export interface TokenTarget {
  /**
   * The address of this token outside the in-process index: single-flight, pauses and
   * the shared store. `authority|clientId|tenant|scopes`, see {@link tokenCacheKey}.
   */
  readonly key: string;
  /** The tenant, normalized (lower case) as the index keys it. */
  readonly tenantId: string;
  /** The normalized scopes, as sent and as the token was issued for. */
  readonly scopes: readonly string[];
  /** The scopes' key within the tenant in the index: the one scope, or the list joined by spaces. */
  readonly scopeKey: string;
}

/** The target for `tenantId` and `scopes` (both normalized) of the client whose {@link keyPrefix} is `prefix`. */
export function tokenTarget(prefix: string, tenantId: string, scopes: readonly string[]): TokenTarget {
  const scopesKey = scopeKey(scopes);
  return { key: tokenCacheKey(prefix, tenantId, scopesKey), tenantId, scopes, scopeKey: scopesKey };
}

import type { TokenResponse } from "./token-response.js";
import { TokenResult, type TokenTimes } from "./token-result.js";

/**
 * A token the in-process index holds: a {@link TokenResult} of source `"cache"`, which is
 * also the answer to a hit on it.
 */
export type CachedToken = TokenResult;

const FIVE_MINUTES = 5 * 60_000;
const TWO_HOURS = 2 * 60 * 60_000;

/** How long tokens may live in the cache, whatever the server says. */
export interface LifetimePolicy {
  /** A cached token is not handed out this close to its expiry. */
  readonly expiryMarginMs: number;
  /** The longest lifetime believed from a server's `expires_in`. */
  readonly maxLifetimeMs: number;
}

/**
 * The lifetime policy: the server's lifetime, capped at `maxLifetimeMs` so an absurd
 * `expires_in` (1e12, 1e308) can neither make `expiresOn` an invalid date nor keep a
 * token in the cache forever. The token is usable until `expiry − margin` (the margin
 * is capped at half the lifetime so short-lived tokens are still cached). A refresh
 * starts in the background at the server's `refresh_in`, else at half-life for
 * tokens of two hours or more, else five minutes before the token stops being
 * usable — so callers of a busy key never wait for a refresh.
 */
export function createCachedToken(
  response: TokenResponse,
  issuedAt: number,
  policy: LifetimePolicy,
  scopes: readonly string[],
  tenantId: string,
  correlationId: string,
): CachedToken {
  const reported = response.expiresIn * 1000;
  // Written so that NaN or a negative lifetime reads as "already expired", never as forever.
  const lifetime = reported > 0 ? Math.min(reported, policy.maxLifetimeMs) : 0;
  const expiresOn = issuedAt + lifetime;
  const usableUntil = expiresOn - Math.min(policy.expiryMarginMs, lifetime / 2);
  const usable = usableUntil - issuedAt;
  const refreshIn = (response.refreshIn ?? Number.NaN) * 1000;
  let refreshOn: number;
  if (refreshIn >= 0 && refreshIn < lifetime) refreshOn = issuedAt + refreshIn;
  else if (lifetime >= TWO_HOURS) refreshOn = issuedAt + lifetime / 2;
  else refreshOn = usableUntil - Math.min(FIVE_MINUTES, usable / 2);
  return cachedToken({
    accessToken: response.accessToken,
    tokenType: response.tokenType,
    expiresOn,
    refreshOn: Math.min(refreshOn, usableUntil),
    usableUntil,
    scopes,
    tenantId,
    correlationId,
  });
}

/** A cached token of `fields`: the index's entry and the answer to every hit on it. */
function cachedToken(fields: TokenTimes & { accessToken: string; tokenType: string; scopes: readonly string[]; tenantId: string; correlationId: string }): CachedToken {
  const { accessToken, tokenType, scopes, tenantId, correlationId } = fields;
  return new TokenResult(accessToken, tokenType, fields, scopes, scopeKey(scopes), tenantId, "cache", correlationId, undefined);
}

/**
 * Whose token an entry is. Stored in every shared entry and compared on every read, so
 * an entry that reached the wrong key (a key collision, a store that mixes keys up)
 * is a miss, never another client's token.
 */
export interface TokenIdentity {
  /** The Entra authority base or the generic issuer. */
  readonly authority: string;
  readonly clientId: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
}

/**
 * The format version of serialized entries; other versions read as misses. Version 2
 * added the authority and client id, so an entry of version 1 is fetched again once.
 */
const FORMAT = 2;

/** Serializes a token for a {@link TokenCacheStore}. */
export function serializeToken(token: CachedToken, authority: string, clientId: string): string {
  const { expiresOn, refreshOn, usableUntil } = TokenResult.times(token);
  return JSON.stringify({
    v: FORMAT,
    authority,
    clientId,
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    expiresOn,
    refreshOn,
    usableUntil,
    scopes: token.scopes,
    tenantId: token.tenantId,
    correlationId: token.correlationId,
  });
}

/**
 * Reads a stored entry back, or `undefined` when it is corrupt, foreign, of another
 * format, or not for exactly the expected identity (a store is not trusted blindly).
 */
export function deserializeToken(value: string, expected: TokenIdentity): CachedToken | undefined {
  const entry = parseStoredObject(value);
  if (
    entry === undefined ||
    entry["v"] !== FORMAT ||
    entry["authority"] !== expected.authority ||
    entry["clientId"] !== expected.clientId ||
    entry["tenantId"] !== expected.tenantId ||
    !sameScopes(entry["scopes"], expected.scopes) ||
    typeof entry["accessToken"] !== "string" ||
    entry["accessToken"].length === 0 ||
    typeof entry["tokenType"] !== "string" ||
    typeof entry["correlationId"] !== "string" ||
    !isTime(entry["expiresOn"]) ||
    !isTime(entry["refreshOn"]) ||
    !isTime(entry["usableUntil"]) ||
    // Times that contradict each other would serve an expired token as fresh.
    !(entry["refreshOn"] <= entry["usableUntil"] && entry["usableUntil"] <= entry["expiresOn"])
  ) {
    return undefined;
  }
  return cachedToken({
    accessToken: entry["accessToken"],
    tokenType: entry["tokenType"],
    expiresOn: entry["expiresOn"],
    refreshOn: entry["refreshOn"],
    usableUntil: entry["usableUntil"],
    scopes: expected.scopes,
    tenantId: expected.tenantId,
    correlationId: entry["correlationId"],
  });
}

/** A stored value's JSON object, or `undefined` when it is not one: what a store returns is not trusted. */
export function parseStoredObject(value: string): Record<string, unknown> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return undefined;
  }
  return data !== null && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

/** The largest time a `Date` can hold. */
const MAX_TIME = 8.64e15;

/** A positive time (ms since the epoch) a `Date` can hold. */
export function isTime(value: unknown): value is number {
  return typeof value === "number" && value > 0 && value <= MAX_TIME;
}

function sameScopes(value: unknown, scopes: readonly string[]): boolean {
  return Array.isArray(value) && value.length === scopes.length && value.every((scope, i) => scope === scopes[i]);
}

/** The index key of a token's scopes: the one scope, or the normalized list joined by spaces. */
export function scopeKey(scopes: readonly string[]): string {
  return scopes.length === 1 ? (scopes[0] as string) : scopes.join(" ");
}

/**
 * One part of a shared cache key. The separator `|` and the escape `%` itself are
 * percent-encoded, so distinct parts can never join into the same key (a client id
 * `b|c` after an authority `…/a` against a client id `c` after `…/a|b`); every other
 * character is kept, so keys stay readable and the usual ones unchanged.
 */
export function keyPart(part: string): string {
  return part.includes("%") || part.includes("|") ? part.replaceAll("%", "%25").replaceAll("|", "%7C") : part;
}

/** The part of {@link tokenCacheKey} shared by all of a client's tokens, computed once per client. */
export function keyPrefix(authority: string, clientId: string): string {
  return `${keyPart(authority)}|${keyPart(clientId)}|`;
}

/**
 * The key of a token in a shared store (and of single-flight and pauses in process):
 * `authority|clientId|tenant|scopes`, each part through {@link keyPart}; `prefix` is
 * the client's {@link keyPrefix}.
 */
export function tokenCacheKey(prefix: string, tenantId: string, scopes: string): string {
  return `${prefix}${keyPart(tenantId)}|${keyPart(scopes)}`;
}

/**
 * The in-process tokens of one client, by tenant and then by scope key. A hit looks up the
 * caller's own strings (V8 keeps a string's hash in the string), so it builds no key; one
 * flat map of `tenant|scope` keys hashed a new string on every call and grew ~10× slower
 * from 1 to 100,000 tenants. A tenant with one token (the usual case) holds it directly, not
 * in a map of its own: fewer objects to visit on a hit, and ~300 bytes less per token.
 * Holds at most `maxTokens`, dropping the least recently stored.
 */
export class TokenIndex {
  private readonly byTenant = new Map<string, CachedToken | Map<string, CachedToken>>();
  /** Every token held, least recently stored first. */
  private readonly order = new Set<CachedToken>();

  constructor(private readonly maxTokens: number) {}

  get(tenantId: string, scopes: string): CachedToken | undefined {
    const held = this.byTenant.get(tenantId);
    if (held === undefined || !(held instanceof Map)) return held !== undefined && TokenResult.scopeKey(held) === scopes ? held : undefined;
    return held.get(scopes);
  }

  /** Stores `token` under its tenant and scopes, replacing the one there. */
  set(token: CachedToken): void {
    const tokenScopeKey = TokenResult.scopeKey(token);
    const previous = this.get(token.tenantId, tokenScopeKey);
    if (previous !== undefined) this.order.delete(previous);
    else if (this.order.size >= this.maxTokens) this.evictOldest();
    const held = this.byTenant.get(token.tenantId);
    if (held === undefined || held === previous) {
      this.byTenant.set(token.tenantId, token);
    } else if (held instanceof Map) {
      held.set(tokenScopeKey, token);
    } else {
      this.byTenant.set(
        token.tenantId,
        new Map([
          [TokenResult.scopeKey(held), held],
          [tokenScopeKey, token],
        ]),
      );
    }
    this.order.add(token);
  }

  clear(): void {
    this.byTenant.clear();
    this.order.clear();
  }

  private evictOldest(): void {
    const oldest = this.order.values().next();
    if (oldest.done === true) return;
    const token = oldest.value;
    this.order.delete(token);
    const held = this.byTenant.get(token.tenantId);
    if (held === token) {
      this.byTenant.delete(token.tenantId);
    } else if (held instanceof Map) {
      held.delete(TokenResult.scopeKey(token));
      const [last, ...others] = held.values();
      if (last !== undefined && others.length === 0) this.byTenant.set(token.tenantId, last);
    }
  }
}

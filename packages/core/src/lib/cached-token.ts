import type { AccessTokenResult } from "../client-types.js";
import type { TokenResponse } from "./token-response.js";

/** A token in the in-process index. Times are milliseconds since the epoch. */
export interface CachedToken {
  readonly accessToken: string;
  readonly tokenType: string;
  readonly expiresOn: number;
  /** Past this, a hit is still served but one background refresh starts. */
  readonly refreshOn: number;
  /** Past this (expiry minus the margin), the token is no longer handed out from cache. */
  readonly usableUntil: number;
  readonly scopes: readonly string[];
  readonly tenantId: string;
  readonly correlationId: string;
  /** The answer to a cache hit, built once so a hit allocates nothing. */
  readonly cacheResult: AccessTokenResult;
}

const FIVE_MINUTES = 5 * 60_000;
const TWO_HOURS = 2 * 60 * 60_000;

/**
 * The lifetime policy: the token is usable until `expiry − margin` (the margin is
 * capped at half the lifetime so short-lived tokens are still cached). A refresh
 * starts in the background at the server's `refresh_in`, else at half-life for
 * tokens of two hours or more, else five minutes before the token stops being
 * usable — so callers of a busy key never wait for a refresh.
 */
export function createCachedToken(
  response: TokenResponse,
  issuedAt: number,
  expiryMarginMs: number,
  scopes: readonly string[],
  tenantId: string,
  correlationId: string,
): CachedToken {
  const lifetime = response.expiresIn * 1000;
  const expiresOn = issuedAt + lifetime;
  const usableUntil = expiresOn - Math.min(expiryMarginMs, lifetime / 2);
  const usable = usableUntil - issuedAt;
  let refreshOn: number;
  if (response.refreshIn !== undefined) refreshOn = issuedAt + response.refreshIn * 1000;
  else if (lifetime >= TWO_HOURS) refreshOn = issuedAt + lifetime / 2;
  else refreshOn = usableUntil - Math.min(FIVE_MINUTES, usable / 2);
  return withResult({
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

type TokenFields = Omit<CachedToken, "cacheResult">;

function withResult(fields: TokenFields): CachedToken {
  return Object.freeze({ ...fields, cacheResult: toResult(fields, "cache") });
}

/** The caller's view of a cached token. */
export function toResult(token: TokenFields, source: AccessTokenResult["source"]): AccessTokenResult {
  return Object.freeze({
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    expiresOn: new Date(token.expiresOn),
    refreshOn: new Date(token.refreshOn),
    scopes: token.scopes,
    tenantId: token.tenantId,
    source,
    correlationId: token.correlationId,
  });
}

/** The format version of serialized entries; other versions read as misses. */
const FORMAT = 1;

/** Serializes a token for a {@link TokenCacheStore}. */
export function serializeToken(token: CachedToken): string {
  return JSON.stringify({
    v: FORMAT,
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    expiresOn: token.expiresOn,
    refreshOn: token.refreshOn,
    usableUntil: token.usableUntil,
    scopes: token.scopes,
    tenantId: token.tenantId,
    correlationId: token.correlationId,
  });
}

/**
 * Reads a stored entry back, or `undefined` when it is corrupt, foreign, of another
 * format, or not for the expected tenant and scopes (a store is not trusted blindly).
 */
export function deserializeToken(value: string, tenantId: string, scopes: readonly string[]): CachedToken | undefined {
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== "object") return undefined;
  const entry = data as Record<string, unknown>;
  if (
    entry["v"] !== FORMAT ||
    typeof entry["accessToken"] !== "string" ||
    entry["accessToken"].length === 0 ||
    typeof entry["tokenType"] !== "string" ||
    typeof entry["correlationId"] !== "string" ||
    entry["tenantId"] !== tenantId ||
    !isTime(entry["expiresOn"]) ||
    !isTime(entry["refreshOn"]) ||
    !isTime(entry["usableUntil"]) ||
    !sameScopes(entry["scopes"], scopes)
  ) {
    return undefined;
  }
  return withResult({
    accessToken: entry["accessToken"],
    tokenType: entry["tokenType"],
    expiresOn: entry["expiresOn"],
    refreshOn: entry["refreshOn"],
    usableUntil: entry["usableUntil"],
    scopes,
    tenantId,
    correlationId: entry["correlationId"],
  });
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

function sameScopes(value: unknown, scopes: readonly string[]): boolean {
  return Array.isArray(value) && value.length === scopes.length && value.every((scope, i) => scope === scopes[i]);
}

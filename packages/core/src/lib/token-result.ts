import type { AccessTokenResult } from "../client-types.js";
import { printsAs, REDACTION } from "../redacted.js";

/** A token's times, in milliseconds since the epoch. */
export interface TokenTimes {
  readonly expiresOn: number;
  /** Past this, a hit is still served but one background refresh starts. */
  readonly refreshOn: number;
  /** Past this (expiry minus the margin), the token is no longer handed out from cache. */
  readonly usableUntil: number;
}

/** Where {@link TokenResult}'s whole-second refresh time counts from. */
const EPOCH = Date.UTC(2026, 0, 1);
/** The whole seconds V8 keeps as small integers on every build (31 bits with pointer compression). */
const SMALL = 2 ** 30;
/** A refresh second that says "before the range": every hit then compares the exact time. */
const BEFORE_RANGE = -SMALL;

/**
 * A token as the caller sees it and, with source `"cache"`, as the in-process index holds
 * it: the index's entry is the very answer a hit returns, so a hit reaches one object, the
 * one the caller's `await` reads anyway. What only the index reads (the refresh and
 * usable-until times, the scope key) is private: a caller sees an {@link AccessTokenResult}.
 *
 * The times are kept as milliseconds and `expiresOn`/`refreshOn` build their `Date` when
 * read: two `Date`s per cached token were ~220 bytes of heap, while a hit allocates
 * nothing. Each read gives a fresh `Date`, so a caller that changes one changes nothing
 * here. Prints (`JSON.stringify`, `util.inspect`) with everything but the access token.
 */
export class TokenResult implements AccessTokenResult {
  readonly #expiresOn: number;
  readonly #refreshOn: number;
  readonly #usableUntil: number;
  /**
   * The refresh time rounded down to a whole second since {@link EPOCH}. V8 keeps a small
   * integer in the object itself but a time in milliseconds (a double) in a box of its
   * own: one more object to reach on every hit, most of what a hit among 100,000 tokens
   * cost beyond its memory-latency floor. A hit before this second needs nothing else;
   * in the last second before the refresh time the exact time decides.
   */
  readonly #refreshSecond: number;
  readonly #scopeKey: string;

  constructor(
    readonly accessToken: string,
    readonly tokenType: string,
    times: TokenTimes,
    readonly scopes: readonly string[],
    scopeKey: string,
    readonly tenantId: string,
    readonly source: AccessTokenResult["source"],
    readonly correlationId: string,
    // Always a key (undefined but on a network answer): one object shape for every result.
    readonly tokenEndpoint: string | undefined,
  ) {
    this.#expiresOn = times.expiresOn;
    this.#refreshOn = times.refreshOn;
    this.#usableUntil = times.usableUntil;
    this.#refreshSecond = refreshSecond(times.refreshOn);
    this.#scopeKey = scopeKey;
    Object.freeze(this);
  }

  get expiresOn(): Date {
    return new Date(this.#expiresOn);
  }

  get refreshOn(): Date {
    return new Date(this.#refreshOn);
  }

  /** The same token answered as `source` (a network answer names its token endpoint). */
  static as(token: TokenResult, source: AccessTokenResult["source"], tokenEndpoint?: string): TokenResult {
    return new TokenResult(token.accessToken, token.tokenType, TokenResult.times(token), token.scopes, token.#scopeKey, token.tenantId, source, token.correlationId, tokenEndpoint);
  }

  /** Whether `now` is before the token's refresh time: the check of every hit, which reads no time box. */
  static beforeRefresh(token: TokenResult, now: number): boolean {
    const second = token.#refreshSecond;
    return (second !== BEFORE_RANGE && now - EPOCH < second * 1000) || now < token.#refreshOn;
  }

  /** The token's times, as numbers. */
  static times(token: TokenResult): TokenTimes {
    return { expiresOn: token.#expiresOn, refreshOn: token.#refreshOn, usableUntil: token.#usableUntil };
  }

  /** `token`'s expiry in milliseconds since the epoch, without building a `Date`. */
  static expiresAt(token: TokenResult): number {
    return token.#expiresOn;
  }

  static usableUntil(token: TokenResult): number {
    return token.#usableUntil;
  }

  /** The token's key within its tenant in the index: its one scope, or its scopes joined by spaces. */
  static scopeKey(token: TokenResult): string {
    return token.#scopeKey;
  }
}

/** `refreshOn` as a whole second since {@link EPOCH}, rounded down (never later than the exact time), in the small-integer range. */
function refreshSecond(refreshOn: number): number {
  const second = Math.floor((refreshOn - EPOCH) / 1000);
  if (!(second > BEFORE_RANGE)) return BEFORE_RANGE; // a test clock in 1970, or NaN: always the exact time
  return Math.min(second, SMALL - 1) | 0;
}

printsAs(TokenResult.prototype, function (this: TokenResult) {
  return {
    accessToken: REDACTION,
    tokenType: this.tokenType,
    expiresOn: this.expiresOn,
    refreshOn: this.refreshOn,
    scopes: this.scopes,
    tenantId: this.tenantId,
    source: this.source,
    correlationId: this.correlationId,
    tokenEndpoint: this.tokenEndpoint,
  };
});

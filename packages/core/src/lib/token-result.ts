import type { AccessTokenResult } from "../client-types.js";
import { printsAs, REDACTION } from "../redacted.js";

/**
 * The caller's view of a token. The times are kept as milliseconds since the epoch and
 * `expiresOn`/`refreshOn` build their `Date` when read: two `Date`s per cached token were
 * ~220 bytes of heap, while a cache hit still returns this object as built, allocating
 * nothing. Each read gives a fresh `Date`, so a caller that changes one changes nothing here.
 * Prints (`JSON.stringify`, `util.inspect`) with everything but the access token.
 */
export class TokenResult implements AccessTokenResult {
  readonly #expiresOn: number;
  readonly #refreshOn: number;

  constructor(
    readonly accessToken: string,
    readonly tokenType: string,
    expiresOn: number,
    refreshOn: number,
    readonly scopes: readonly string[],
    readonly tenantId: string,
    readonly source: AccessTokenResult["source"],
    readonly correlationId: string,
    // Always a key (undefined but on a network answer): one object shape for every result.
    readonly tokenEndpoint: string | undefined,
  ) {
    this.#expiresOn = expiresOn;
    this.#refreshOn = refreshOn;
    Object.freeze(this);
  }

  get expiresOn(): Date {
    return new Date(this.#expiresOn);
  }

  get refreshOn(): Date {
    return new Date(this.#refreshOn);
  }

  /** `result`'s expiry in milliseconds since the epoch, without building a `Date`. */
  static expiresAt(result: TokenResult): number {
    return result.#expiresOn;
  }
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

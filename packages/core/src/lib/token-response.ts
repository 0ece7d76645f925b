import { InvalidResponseError, ServerError } from "../errors.js";

/** A successful token response, as the client needs it. */
export interface TokenResponse {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Seconds: a whole number from 1 to {@link MAX_EXPIRES_IN_SECONDS}. */
  readonly expiresIn: number;
  /** Seconds, when the server advises an earlier refresh (Entra `refresh_in`). */
  readonly refreshIn: number | undefined;
}

/**
 * The longest lifetime read from a response: ten years. Any longer claim is a broken
 * server; capped here so that `expiresOn` is a valid date whatever the server says. The
 * client caps the lifetime it caches far lower.
 */
export const MAX_EXPIRES_IN_SECONDS = 10 * 365 * 86_400;

/**
 * RFC 6750 §2.1 `b64token`: what an access token may hold to travel in an
 * `Authorization: Bearer` header. CR/LF or spaces would split or forge headers.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Whether `value` can travel as a bearer token: a non-empty RFC 6750 `b64token`. */
export function isBearerToken(value: unknown): value is string {
  return typeof value === "string" && B64TOKEN.test(value);
}

/**
 * Parses a 200 token response strictly (RFC 6749 §5.1): an `access_token` that is an
 * RFC 6750 b64token, `token_type` Bearer (any case), and `expires_in` a non-negative
 * whole number of seconds (a JSON number or a string of digits, as ADFS sends it),
 * greater than zero and capped at {@link MAX_EXPIRES_IN_SECONDS}.
 *
 * @throws {InvalidResponseError} naming the field; never quoting the token.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function parseTokenResponse(body: Record<string, unknown>, status: number): TokenResponse {
  const accessToken = body["access_token"];
  if (typeof accessToken !== "string" || accessToken.length === 0) {
    throw new InvalidResponseError("The token response has no 'access_token'.", { status });
  }
  if (!isBearerToken(accessToken)) {
    throw new InvalidResponseError(
      "The token response's 'access_token' holds characters a bearer token cannot carry (RFC 6750 b64token: letters, digits, '-._~+/', trailing '='); " +
        "it was refused and not cached. Check the server or any proxy rewriting its answers.",
      { status },
    );
  }
  const tokenType = body["token_type"];
  if (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer") {
    throw new InvalidResponseError(
      `The token response's 'token_type' is ${describeTokenType(tokenType)}; only Bearer tokens are supported.`,
      { status },
    );
  }
  const expiresIn = seconds(body["expires_in"]);
  if (expiresIn === undefined || expiresIn <= 0) {
    throw new InvalidResponseError(
      "The token response has no positive whole number of seconds in 'expires_in'; the token's lifetime is unknown.",
      { status },
    );
  }
  const refreshIn = seconds(body["refresh_in"]);
  return {
    accessToken,
    tokenType: "Bearer",
    expiresIn,
    refreshIn: refreshIn !== undefined && refreshIn > 0 && refreshIn < expiresIn ? refreshIn : undefined,
  };
}

/**
 * Turns an OAuth 2.0 error response into a {@link ServerError}, reading `error`,
 * `error_codes` and the Entra fields; `undefined` when the body is not one. `sent` are
 * the secret values the request carried: a server echoing them gets them redacted from
 * every field the error keeps (see {@link ServerError}).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export function parseErrorResponse(
  body: Record<string, unknown>,
  status: number,
  sent: readonly string[] = [],
): ServerError | undefined {
  const error = body["error"];
  if (typeof error !== "string" || error.length === 0) return undefined;
  const codes = Array.isArray(body["error_codes"])
    ? body["error_codes"].filter((code): code is number => Number.isSafeInteger(code) && code >= 0).slice(0, 20)
    : [];
  return new ServerError({
    status,
    error,
    errorCodes: codes,
    errorDescription: optionalString(body["error_description"]),
    traceId: optionalString(body["trace_id"]),
    correlationId: optionalString(body["correlation_id"]),
    timestamp: optionalString(body["timestamp"]),
    errorUri: optionalString(body["error_uri"]),
    sent,
  });
}

// A whole number of seconds, as a JSON number or (ADFS and some generic servers) a string
// of digits. Fractions are rounded down; anything else is no lifetime at all.
function seconds(value: unknown): number | undefined {
  let number: number;
  if (typeof value === "number") number = value;
  else if (typeof value === "string" && /^\d{1,20}$/.test(value)) number = Number(value);
  else return undefined;
  if (!Number.isFinite(number) || number < 0) return undefined;
  return Math.min(Math.floor(number), MAX_EXPIRES_IN_SECONDS);
}

/** Token types servers really send; only these are named in a message. */
const KNOWN_TOKEN_TYPES: ReadonlyMap<string, string> = new Map(
  ["PoP", "DPoP", "MAC", "N_A", "Basic", "urn:ietf:params:oauth:token-type:jwt"].map((type) => [type.toLowerCase(), type]),
);

// Named only when it is a known type: an echoing server must not get request text (a
// short secret fits any "looks like a word" rule) into a message.
function describeTokenType(tokenType: unknown): string {
  if (typeof tokenType !== "string") return "missing";
  const known = KNOWN_TOKEN_TYPES.get(tokenType.toLowerCase());
  return known === undefined ? "not a supported type" : `'${known}'`;
}

// Length is capped by ServerError after redaction, so that a cut cannot halve a secret.
function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

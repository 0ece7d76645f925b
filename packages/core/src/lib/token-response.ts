import { InvalidResponseError, ServerError } from "../errors.js";

/** A successful token response, as the client needs it. */
export interface TokenResponse {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Seconds. */
  readonly expiresIn: number;
  /** Seconds, when the server advises an earlier refresh (Entra `refresh_in`). */
  readonly refreshIn: number | undefined;
}

/**
 * Parses a 200 token response strictly (RFC 6749 §5.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export function parseTokenResponse(body: Record<string, unknown>, status: number): TokenResponse {
  const accessToken = body["access_token"];
  if (typeof accessToken !== "string" || accessToken.length === 0) {
    throw new InvalidResponseError("The token response has no 'access_token'.", { status });
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
    throw new InvalidResponseError("The token response has no positive 'expires_in'; the token's lifetime is unknown.", {
      status,
    });
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
 * Turns an OAuth 2.0 error response into a {@link ServerError}, reading `error` and
 * `error_codes` (never the description text); `undefined` when the body is not one.
 */
export function parseErrorResponse(body: Record<string, unknown>, status: number): ServerError | undefined {
  const error = body["error"];
  if (typeof error !== "string" || error.length === 0) return undefined;
  const codes = Array.isArray(body["error_codes"])
    ? body["error_codes"].filter((code): code is number => Number.isInteger(code))
    : [];
  return new ServerError({
    status,
    error: error.slice(0, 100),
    errorCodes: codes,
    errorDescription: optionalString(body["error_description"]),
    traceId: optionalString(body["trace_id"]),
    correlationId: optionalString(body["correlation_id"]),
    timestamp: optionalString(body["timestamp"]),
    errorUri: optionalString(body["error_uri"]),
  });
}

// ADFS and some generic servers send numbers as strings.
function seconds(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) ? number : undefined;
}

// Named only when it looks like a token type: an echoing server must not get request text into a message.
function describeTokenType(tokenType: unknown): string {
  if (typeof tokenType !== "string") return "missing";
  return /^[A-Za-z][A-Za-z0-9_-]{0,19}$/.test(tokenType) ? `'${tokenType}'` : "not a token type";
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value.slice(0, 2000) : undefined;
}

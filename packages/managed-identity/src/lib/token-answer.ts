import { InvalidResponseError, ServerError } from "@daemon-auth/core";
import type { FetchedToken } from "@daemon-auth/core/acquisition";
import type { ManagedIdentitySource } from "../options.js";

/**
 * Reads a managed identity endpoint's 200 answer. The platforms send the lifetime their
 * own way: IMDS `expires_in` and `expires_on` as strings, App Service only `expires_on`
 * (epoch seconds, a string), some an ISO 8601 `expires_on`; `refresh_in` when present.
 * The absolute `expires_on` wins, as in msal-node; `sentAt` is when the request left.
 *
 * @throws {InvalidResponseError} naming the field, never quoting the token.
 */
export function parseTokenAnswer(body: Record<string, unknown>, status: number, sentAt: number, source: ManagedIdentitySource): FetchedToken {
  const accessToken = body["access_token"];
  if (typeof accessToken !== "string" || accessToken.length === 0) {
    throw new InvalidResponseError(`Managed identity (${source}): the endpoint's answer has no 'access_token'; is the endpoint variable pointing at the right service?`, { status });
  }
  const tokenType = body["token_type"];
  if (tokenType !== undefined && (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer")) {
    throw new InvalidResponseError(`Managed identity (${source}): the endpoint's answer is not a Bearer token; only Bearer tokens are supported.`, { status });
  }
  const expiresOn = epochSeconds(body["expires_on"]);
  const fromExpiresOn = expiresOn === undefined ? undefined : expiresOn - Math.floor(sentAt / 1000);
  const fromExpiresIn = wholeSeconds(body["expires_in"]);
  const expiresIn = fromExpiresOn !== undefined && fromExpiresOn > 0 ? fromExpiresOn : fromExpiresIn;
  if (expiresIn === undefined || expiresIn <= 0) {
    throw new InvalidResponseError(
      `Managed identity (${source}): the endpoint's answer has no usable 'expires_on' or 'expires_in'; the token's lifetime is unknown.`,
      { status },
    );
  }
  const refreshIn = wholeSeconds(body["refresh_in"]);
  return {
    accessToken,
    tokenType: "Bearer",
    expiresIn,
    refreshIn: refreshIn !== undefined && refreshIn > 0 && refreshIn < expiresIn ? refreshIn : undefined,
    sentAt,
  };
}

/**
 * A refusal's fields as a {@link ServerError}, whatever shape the platform gives them:
 * OAuth's `error` + `error_description` (IMDS), `{ error: { code, message } }` or
 * `{ statusCode, message }` (App Service, Arc). AADSTS codes quoted in the description
 * and an `error_codes` list become `errorCodes`. `secrets` (identity header, Arc key) are redacted from every field.
 */
export function parseRefusal(body: Record<string, unknown>, status: number, secrets: readonly string[]): ServerError {
  const raw = body["error"];
  const nested = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : undefined;
  const error = typeof raw === "string" ? raw : typeof nested?.["code"] === "string" ? nested["code"] : `http_${status}`;
  const description = [body["error_description"], body["message"], body["Message"], nested?.["message"]].find(
    (value): value is string => typeof value === "string",
  );
  const listed = Array.isArray(body["error_codes"]) ? body["error_codes"].filter((code): code is number => Number.isSafeInteger(code) && code >= 0) : [];
  const quoted = [...(description ?? "").matchAll(/AADSTS(\d{4,8})/g)].map((match) => Number(match[1]));
  const codes = [...new Set([...listed, ...quoted])].slice(0, 20);
  const correlation = [body["correlation_id"], body["correlationId"]].find((value): value is string => typeof value === "string");
  return new ServerError({ status, error, errorCodes: codes, errorDescription: description, correlationId: correlation, sent: secrets });
}

/**
 * The platforms' words for "this identity is not on this resource": IMDS "Identity not
 * found", several user-assigned identities and none named, App Service "Unable to load
 * the proper Managed Identity".
 */
const IDENTITY_MISSING = /identity not found|not assigned|no managed identity|multiple user assigned identities|unable to load the proper managed identity|managed identity is not (?:enabled|configured)/i;

/** Whether a refusal says the identity asked for is not assigned to this resource. */
export function isIdentityMissing(refusal: ServerError): boolean {
  return refusal.status === 400 || refusal.status === 404 ? IDENTITY_MISSING.test(refusal.errorDescription ?? "") : false;
}

function wholeSeconds(value: unknown): number | undefined {
  const number = typeof value === "number" ? value : typeof value === "string" && /^\d{1,15}(?:\.\d+)?$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(number) && number >= 0 ? Math.floor(number) : undefined;
}

function epochSeconds(value: unknown): number | undefined {
  const seconds = wholeSeconds(value);
  if (seconds !== undefined) return seconds;
  // An ISO 8601 date, which some platforms send instead of epoch seconds.
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
  }
  return undefined;
}

/**
 * The `claims` parameter of a token request, as MSAL builds it: the resource's claims
 * challenge, with the client capabilities set as `access_token.xms_cc` (the rest of the
 * challenge's `access_token` object is kept). `undefined` when there is neither.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge
 */
export function claimsParameter(challenge: string | undefined, capabilities: readonly string[]): string | undefined {
  if (capabilities.length === 0) return challenge;
  // The acquirer has already refused a challenge that is not a JSON object.
  const claims: Record<string, unknown> = challenge === undefined ? {} : (JSON.parse(challenge) as Record<string, unknown>);
  const accessToken = claims["access_token"];
  claims["access_token"] = {
    ...(isPlainObject(accessToken) ? accessToken : {}),
    xms_cc: { values: [...capabilities] },
  };
  return JSON.stringify(claims);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

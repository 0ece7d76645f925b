import type { CredentialContext } from "@daemon-auth/core";

/** The token endpoint of {@link sampleCredentialContext}: a syntactically valid Entra tenant. */
export const SAMPLE_TOKEN_ENDPOINT =
  "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token";

/** The client id of {@link sampleCredentialContext}. */
export const SAMPLE_CLIENT_ID = "00000000-0000-0000-0000-0000000000c1";

/**
 * A {@link CredentialContext} for tests: an Entra v2.0 token endpoint, a client id GUID
 * and `authorityKind: "entra"`, with `overrides` applied.
 *
 * @example
 * await credential.getAuthentication(sampleCredentialContext({ signal: AbortSignal.abort() }));
 */
export function sampleCredentialContext(overrides: Partial<CredentialContext> = {}): CredentialContext {
  return {
    tokenEndpoint: SAMPLE_TOKEN_ENDPOINT,
    clientId: SAMPLE_CLIENT_ID,
    authorityKind: "entra",
    ...overrides,
  };
}

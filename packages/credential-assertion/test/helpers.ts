import { randomUUID } from "node:crypto";
import type { ClientAuthentication, CredentialContext } from "@daemon-auth/core";
import { expect } from "vitest";

export const CONTEXT: CredentialContext = {
  tokenEndpoint: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
  clientId: "00000000-0000-0000-0000-00000000c1e7",
  authorityKind: "entra",
};

/** A JWT-shaped token (not validly signed: the credential must not care) expiring at `expMs`. */
export function fakeJwt(expMs: number, subject = "system:serviceaccount:default:daemon"): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const payload = { iss: "https://oidc.example.test", sub: subject, aud: "api://AzureADTokenExchange", exp: Math.floor(expMs / 1000), jti: randomUUID() };
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(payload)}.${Buffer.from(randomUUID()).toString("base64url")}`;
}

export function assertionOf(authentication: ClientAuthentication): string {
  if (!("clientAssertion" in authentication)) throw new Error("expected a client assertion");
  expect(authentication.clientAssertionType).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  return authentication.clientAssertion;
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.now()): { now(): number; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

import { createPublicKey, verify, type JsonWebKey } from "node:crypto";
import { expect } from "vitest";

/** What {@link expectValidEmulatorToken} checks beyond the signature. */
export interface ExpectedEmulatorToken {
  /** The emulator's JWKS address, `emulator.jwksUri(tenantId)`. */
  jwksUri: string;
  /** The daemon the token must have been issued to (`appid`). */
  clientId: string;
}

/**
 * Asserts that `token` is an unexpired access token the emulator signed for `clientId`: a
 * torn or mixed-up cache entry fails here even when it still looks like a JWT.
 */
export async function expectValidEmulatorToken(token: string, expected: ExpectedEmulatorToken): Promise<void> {
  const parts = token.split(".");
  expect(parts, "a JWT has three parts").toHaveLength(3);
  const [header = "", payload = "", signature = ""] = parts;
  const { kid } = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { kid?: string };
  const response = await fetch(expected.jwksUri);
  const { keys } = (await response.json()) as { keys: (JsonWebKey & { kid?: string })[] };
  const jwk = keys.find((key) => key.kid === kid);
  expect(jwk, "the token's kid is in the emulator's JWKS").toBeDefined();
  const key = createPublicKey({ key: jwk ?? {}, format: "jwk" });
  const signed = verify("RSA-SHA256", Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, "base64url"));
  expect(signed, "the emulator's signature verifies").toBe(true);
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { appid?: string; exp?: number };
  expect(claims.appid).toBe(expected.clientId);
  expect(claims.exp ?? 0).toBeGreaterThan(Date.now() / 1000);
}

import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from "jose";

/** A JWT's parts, decoded; the signature is not checked. */
export interface DecodedToken {
  readonly header: ProtectedHeaderParameters;
  readonly claims: JWTPayload;
}

/**
 * Decodes a JWS-compact JWT without verifying it. Errors never contain the token.
 *
 * @throws {Error} when `token` is not a JWT (or is an encrypted one).
 */
export function decodeToken(token: string): DecodedToken {
  const parts = token.split(".").length;
  if (parts === 5) throw new Error("this is an encrypted token (JWE): only its audience can decrypt it, so its claims cannot be shown.");
  if (parts !== 3) throw new Error(`this is not a JWT: it has ${parts} dot-separated part(s), a JWT has 3 (header.claims.signature).`);
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    // jose's message is generic; what matters is which kind of input this was.
    throw new Error("this is not a JWT: its header or claims are not base64url-encoded JSON objects.");
  }
}

/** The application permissions in an app-only token (`roles`), empty when none were granted. */
export function tokenRoles(claims: JWTPayload): string[] {
  const roles = claims["roles"];
  return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === "string") : [];
}

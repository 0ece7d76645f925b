// The emulator's token signing key: one RSA key per instance, published in
// the JWKS with a self-signed certificate (x5c), keyed by its SHA-1 thumbprint
// as Entra ID does (kid = x5t).
import { generateKeyPair, X509Certificate, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { SignJWT, exportJWK } from "jose";
import { certificateThumbprints } from "../certificate.js";
import { buildCertificate } from "./x509.js";

const generateRsaKeyPair = promisify(generateKeyPair);

/** One JSON Web Key of the emulator's JWKS. */
export interface EmulatorJwk {
  kty: string;
  use: "sig";
  alg: "RS256";
  kid: string;
  x5t: string;
  n: string;
  e: string;
  x5c: string[];
  issuer?: string;
}

export interface TokenSigner {
  readonly kid: string;
  /** `kidOnly` signs like an external OIDC issuer (Kubernetes): no x5t in the header. */
  sign(claims: Record<string, unknown>, options?: { kidOnly?: boolean }): Promise<string>;
  jwk(issuer?: string): EmulatorJwk;
}

export async function createTokenSigner(): Promise<TokenSigner> {
  const { publicKey, privateKey } = await generateRsaKeyPair("rsa", { modulusLength: 2048 });
  const now = Date.now();
  const raw = buildCertificate({
    subject: "daemon-auth emulator token signing",
    publicKey,
    signingKey: privateKey,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 5 * 365 * 24 * 3600_000),
  });
  const { x5t } = certificateThumbprints(new X509Certificate(raw));
  const { n, e, kty } = await exportJWK(publicKey);
  const key: KeyObject = privateKey;
  return {
    kid: x5t,
    sign: (claims, options) =>
      new SignJWT(claims).setProtectedHeader(options?.kidOnly === true ? { typ: "JWT", alg: "RS256", kid: x5t } : { typ: "JWT", alg: "RS256", x5t, kid: x5t }).sign(key),
    jwk: (issuer) => ({
      kty: kty ?? "RSA",
      use: "sig",
      alg: "RS256",
      kid: x5t,
      x5t,
      n: n ?? "",
      e: e ?? "",
      x5c: [raw.toString("base64")],
      ...(issuer === undefined ? {} : { issuer }),
    }),
  };
}

import { randomUUID } from "node:crypto";
import { CredentialError, type CredentialContext } from "@daemon-auth/core";
import { CompactSign } from "jose";
import type { CertificateMaterial, SigningAlgorithm } from "./material.js";

/** Which certificate thumbprint header(s) an assertion carries. */
export type ThumbprintHeader = "x5t#S256" | "x5t" | "both";

/** Signs a JWS signing input elsewhere (HSM, Key Vault); returns the raw signature. */
export type RemoteSign = (input: Uint8Array, algorithm: "PS256" | "RS256") => Promise<Uint8Array>;

/** How to build one assertion. */
export interface AssertionSpec {
  readonly algorithm: SigningAlgorithm;
  readonly thumbprint: ThumbprintHeader;
  readonly sendCertificateChain: boolean;
  readonly lifetimeMs: number;
}

/** A signed assertion and the instant (ms since the epoch) its `exp` passes. */
export interface SignedAssertion {
  readonly assertion: string;
  readonly expiresAt: number;
}

const encoder = new TextEncoder();

/**
 * Builds and signs an RFC 7523 client assertion for `context`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 */
export async function signAssertion(
  material: CertificateMaterial,
  context: CredentialContext,
  spec: AssertionSpec,
  now: number,
  remoteSign: RemoteSign | undefined,
): Promise<SignedAssertion> {
  const issuedAt = Math.floor(now / 1000);
  const expires = issuedAt + Math.floor(spec.lifetimeMs / 1000);
  const claims = {
    aud: context.tokenEndpoint,
    iss: context.clientId,
    sub: context.clientId,
    jti: randomUUID(),
    nbf: issuedAt,
    iat: issuedAt,
    exp: expires,
  };
  const header: Record<string, unknown> = { alg: spec.algorithm, typ: "JWT" };
  if (spec.thumbprint !== "x5t") header["x5t#S256"] = material.x5tS256;
  if (spec.thumbprint !== "x5t#S256") header["x5t"] = material.x5t;
  if (spec.sendCertificateChain) header["x5c"] = [...material.x5c];
  const payload = encoder.encode(JSON.stringify(claims));

  let assertion: string;
  if (material.key) {
    assertion = await new CompactSign(payload).setProtectedHeader({ ...header, alg: spec.algorithm }).sign(material.key);
  } else if (remoteSign && (spec.algorithm === "PS256" || spec.algorithm === "RS256")) {
    const signingInput = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(payload)}`;
    let signature: unknown;
    try {
      signature = await remoteSign(encoder.encode(signingInput), spec.algorithm);
    } catch (cause) {
      throw new CredentialError(
        `The certificate signer failed to sign the client assertion (${spec.algorithm}): check the signer's access to its key (HSM, Key Vault).`,
        { cause },
      );
    }
    if (!(signature instanceof Uint8Array) || signature.byteLength === 0) {
      throw new CredentialError("The certificate signer returned no signature: `sign` must resolve the raw signature bytes (a Uint8Array).");
    }
    assertion = `${signingInput}.${base64url(signature)}`;
  } else {
    throw new CredentialError(`No key can sign ${spec.algorithm} for ${material.origin}: configure a private key or an RSA signer.`);
  }
  return { assertion, expiresAt: expires * 1000 };
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

// The emulator as an external OpenID issuer (the role a Kubernetes cluster or
// GitHub Actions plays in workload identity federation), so a federated
// credential can be exercised end to end offline.
import { randomUUID } from "node:crypto";
import type { JSONWebKeySet } from "jose";
import { EmulatorConfigError } from "../config/error.js";
import { DEFAULT_FEDERATED_AUDIENCE } from "../config/types.js";
import type { TokenSigner } from "./signing-key.js";

/** Path segment under the emulator URL where the external issuer lives. */
export const EXTERNAL_SEGMENT = "external";

/** Options of `Emulator.issueExternalToken`. */
export interface ExternalTokenOptions {
  /** The `sub` claim, e.g. `system:serviceaccount:default:daemon`. */
  subject: string;
  /**
   * The `aud` claim.
   * @default "api://AzureADTokenExchange"
   */
  audience?: string;
  /**
   * Seconds until `exp`.
   * @default 3600
   */
  lifetimeSeconds?: number;
}

/** The discovery document of the external issuer. */
export function externalIssuerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/keys`,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
  };
}

/** The external issuer's JWKS: the emulator's signing key. */
export function externalJwks(signer: TokenSigner): JSONWebKeySet {
  return { keys: [{ ...signer.jwk() }] };
}

/** Signs a token as the external issuer, with a kid-only header as Kubernetes does. */
export function signExternalToken(signer: TokenSigner, issuer: string, options: ExternalTokenOptions, now: number): Promise<string> {
  if (typeof options.subject !== "string" || options.subject.trim() === "") {
    throw new EmulatorConfigError("subject", "give the sub claim of the external token, e.g. system:serviceaccount:default:daemon.");
  }
  const lifetime = options.lifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime === 0) {
    throw new EmulatorConfigError("lifetimeSeconds", "must be a whole number of seconds other than 0 (negative issues an already expired token).");
  }
  const iat = Math.floor(now / 1000);
  const exp = iat + lifetime;
  return signer.sign(
    {
      iss: issuer,
      sub: options.subject,
      aud: options.audience ?? DEFAULT_FEDERATED_AUDIENCE,
      iat: Math.min(iat, exp - 1),
      nbf: Math.min(iat, exp - 1),
      exp,
      jti: randomUUID(),
    },
    { kidOnly: true },
  );
}

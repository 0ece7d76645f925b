// The options of certificateCredential, apart from the credential so that the checks of
// lib/settings.ts can read them without importing the credential.
import type { Clock, Logger } from "@daemon-auth/core";
import type { ThumbprintHeader } from "./lib/assertion.js";

/**
 * Signs client assertions with a private key held elsewhere: an HSM, Azure Key Vault, a
 * KMS. The credential builds the JWS header and claims and asks for a signature over
 * the JWS signing input (RFC 7515 §5.1: `base64url(header) "." base64url(payload)`).
 *
 * @example
 * const signer: CertificateSigner = {
 *   certificate: pemChain,
 *   sign: async (input, algorithm) => (await cryptographyClient.signData(algorithm, input)).result,
 * };
 */
export interface CertificateSigner {
  /** The certificate (chain) of the signing key as PEM, leaf first. */
  readonly certificate: string;
  /**
   * Signs `input` (the JWS signing input, not a digest) with `algorithm` and resolves the
   * raw signature: RSASSA-PSS with SHA-256 and a 32-byte salt for `PS256`,
   * RSASSA-PKCS1-v1_5 with SHA-256 for `RS256`.
   */
  sign(input: Uint8Array, algorithm: "PS256" | "RS256"): Promise<Uint8Array>;
}

/**
 * Options of {@link certificateCredential}. Give exactly one source: `path`,
 * `certificatePath` + `privateKeyPath`, `pem`, `pfx` or `signer`.
 */
export interface CertificateCredentialOptions {
  /**
   * A file holding the certificate and its private key: PEM (certificate chain + key), or
   * PFX/PKCS#12 (DER or base64). The format is detected from the contents. Re-read when
   * it changes on disk.
   */
  readonly path?: string | undefined;
  /** A PEM file with the certificate (chain); use with `privateKeyPath`. */
  readonly certificatePath?: string | undefined;
  /** A PEM file with the private key (PKCS#8 or PKCS#1, optionally encrypted); use with `certificatePath`. */
  readonly privateKeyPath?: string | undefined;
  /** PEM text (or its bytes) holding the certificate chain and the private key. */
  readonly pem?: string | Uint8Array | undefined;
  /** A PFX/PKCS#12 archive: its bytes, or base64 text (as Key Vault and CI secrets hold it). */
  readonly pfx?: string | Uint8Array | undefined;
  /**
   * The password of an encrypted PEM key (PKCS#8 `ENCRYPTED PRIVATE KEY` or legacy
   * `Proc-Type: 4,ENCRYPTED`) or of the PFX. A PFX without a password needs none.
   */
  readonly password?: string | undefined;
  /** Sign with a key held elsewhere (HSM, Key Vault). See {@link CertificateSigner}. */
  readonly signer?: CertificateSigner | undefined;
  /**
   * JWS algorithm for RSA keys.
   *
   * @default "PS256" for Entra ID authorities, "RS256" for generic servers (EC keys sign ES256/ES384/ES512 by curve)
   */
  readonly algorithm?: "PS256" | "RS256" | undefined;
  /**
   * Which thumbprint header identifies the certificate: `x5t#S256` (SHA-256), `x5t` (SHA-1) or both.
   *
   * @default "x5t#S256" for Entra ID authorities, "x5t" for generic servers
   */
  readonly thumbprint?: ThumbprintHeader | undefined;
  /**
   * Adds the `x5c` header (the chain, leaf first) for Entra ID subject name + issuer
   * authentication (SNI), where the app trusts a subject and issuer rather than one certificate.
   *
   * @default false
   */
  readonly sendCertificateChain?: boolean | undefined;
  /**
   * Lifetime of an assertion (`exp` − `nbf`), in milliseconds. Entra ID accepts at most 10 minutes.
   *
   * @default 600000
   */
  readonly assertionLifetimeMs?: number | undefined;
  /**
   * Reuse a signed assertion per token endpoint until `reuseMarginMs` before it expires.
   * Entra ID accepts a reused assertion; generic servers may reject a replayed `jti`.
   *
   * @default true for Entra ID authorities, false for generic servers
   */
  readonly reuseAssertions?: boolean | undefined;
  /**
   * A reused assertion is replaced this long before its `exp`, so it cannot expire in flight.
   *
   * @default 120000 (or half of `assertionLifetimeMs` when that is shorter)
   */
  readonly reuseMarginMs?: number | undefined;
  /**
   * Most reused assertions kept (one per client id and token endpoint); the oldest go first.
   *
   * @default 10000
   */
  readonly assertionCacheSize?: number | undefined;
  /**
   * How often, at most, a file-based certificate is checked for changes (a `stat` on use).
   * `Infinity` checks only when {@link CertificateCredential.reload} is called.
   *
   * @default 10000
   */
  readonly reloadCheckIntervalMs?: number | undefined;
  /**
   * The time source for assertion claims, reuse and validity checks.
   *
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
  /** Receives a warning when a changed certificate file cannot be read and the previous certificate stays in use. */
  readonly logger?: Logger | undefined;
}

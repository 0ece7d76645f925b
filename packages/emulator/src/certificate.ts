import { createHash, generateKeyPair, X509Certificate, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { recordSecret } from "./lib/secret-ledger.js";
import { buildCertificate, toPem } from "./lib/x509.js";

const generateRsaKeyPair = promisify(generateKeyPair);

/** Options of {@link createSelfSignedCertificate}. */
export interface SelfSignedCertificateOptions {
  /**
   * Common name of the subject.
   * @default "daemon-auth test client"
   */
  subject?: string;
  /**
   * Start of validity.
   * @default one minute ago
   */
  notBefore?: Date;
  /**
   * End of validity.
   * @default one year after `notBefore`
   */
  notAfter?: Date;
  /**
   * RSA modulus length in bits.
   * @default 2048
   */
  modulusLength?: number;
  /**
   * Make it a CA certificate (basicConstraints CA:TRUE) that {@link issueCertificate} can
   * sign with: the issuer of a subject name + issuer (SN+I) trust.
   * @default false
   */
  ca?: boolean;
}

/**
 * A generated certificate and its key. `privateKey` and `privateKeyPem` are
 * non-enumerable, so `JSON.stringify` and `util.inspect` never print them.
 */
export interface GeneratedCertificate {
  /** The certificate, PEM (public: give it to the emulator or to Entra ID). */
  readonly certificatePem: string;
  /** The PKCS#8 private key, PEM. Non-enumerable. */
  readonly privateKeyPem: string;
  /** The private key as a `KeyObject`. Non-enumerable. */
  readonly privateKey: KeyObject;
  /** SHA-1 thumbprint, upper-case hex (what the Azure portal shows). */
  readonly thumbprintSha1: string;
  /** SHA-256 thumbprint, upper-case hex (what MSAL's `thumbprintSha256` takes). */
  readonly thumbprintSha256: string;
  /** base64url SHA-1 thumbprint: the `x5t` header of an RS256 client assertion. */
  readonly x5t: string;
  /** base64url SHA-256 thumbprint: the `x5t#S256` header of a PS256 client assertion. */
  readonly x5tS256: string;
}

/** Thumbprints of a DER certificate in the encodings clients and servers use. */
export interface CertificateThumbprints {
  sha1Hex: string;
  sha256Hex: string;
  x5t: string;
  x5tS256: string;
}

/** Computes the thumbprints of a certificate. */
export function certificateThumbprints(certificate: X509Certificate): CertificateThumbprints {
  const sha1 = createHash("sha1").update(certificate.raw).digest();
  const sha256 = createHash("sha256").update(certificate.raw).digest();
  return {
    sha1Hex: sha1.toString("hex").toUpperCase(),
    sha256Hex: sha256.toString("hex").toUpperCase(),
    x5t: sha1.toString("base64url"),
    x5tS256: sha256.toString("base64url"),
  };
}

/**
 * Creates an RSA key and a self-signed certificate for it: a client
 * certificate to register with the emulator (`addCertificate`) and to sign
 * client assertions with, in tests and local development.
 *
 * @example
 * ```ts
 * const cert = await createSelfSignedCertificate({ subject: "orders-daemon" });
 * emulator.addCertificate(clientId, { pem: cert.certificatePem });
 * ```
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 */
export async function createSelfSignedCertificate(
  options: SelfSignedCertificateOptions = {},
): Promise<GeneratedCertificate> {
  return generateCertificate(options, undefined);
}

/**
 * Creates an RSA key and a certificate for it signed by `issuer` (a certificate from
 * `createSelfSignedCertificate({ ca: true })`): the renewable client certificates of a
 * subject name + issuer trust (`trustCertificateSubject`), sent with their chain (`x5c`).
 *
 * @example
 * ```ts
 * const ca = await createSelfSignedCertificate({ subject: "Contoso Issuing CA", ca: true });
 * emulator.trustCertificateSubject(clientId, { subjectName: "CN=orders-daemon", issuerPem: ca.certificatePem });
 * const leaf = await issueCertificate(ca, { subject: "orders-daemon" });
 * ```
 */
export async function issueCertificate(issuer: GeneratedCertificate, options: SelfSignedCertificateOptions = {}): Promise<GeneratedCertificate> {
  return generateCertificate(options, issuer);
}

async function generateCertificate(options: SelfSignedCertificateOptions, issuer: GeneratedCertificate | undefined): Promise<GeneratedCertificate> {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * 24 * 3600_000);
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw new RangeError("createSelfSignedCertificate: notAfter must be later than notBefore.");
  }
  const { publicKey, privateKey } = await generateRsaKeyPair("rsa", { modulusLength: options.modulusLength ?? 2048 });
  const issuerCertificate = issuer === undefined ? undefined : new X509Certificate(issuer.certificatePem);
  const raw = buildCertificate({
    subject: options.subject ?? "daemon-auth test client",
    publicKey,
    signingKey: issuer?.privateKey ?? privateKey,
    notBefore,
    notAfter,
    ...(issuerCertificate === undefined ? {} : { issuer: /^CN=(.*)$/m.exec(issuerCertificate.subject)?.[1] ?? "", issuerPublicKey: issuerCertificate.publicKey }),
    ...(options.ca === true ? { isCa: true } : { extendedKeyUsage: ["clientAuth"] as const }),
  });
  const certificatePem = toPem("CERTIFICATE", raw);
  const prints = certificateThumbprints(new X509Certificate(raw));
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const result = {
    certificatePem,
    thumbprintSha1: prints.sha1Hex,
    thumbprintSha256: prints.sha256Hex,
    x5t: prints.x5t,
    x5tS256: prints.x5tS256,
  };
  recordSecret("private key", privateKeyPem);
  Object.defineProperties(result, {
    privateKey: { value: privateKey, enumerable: false },
    privateKeyPem: { value: privateKeyPem, enumerable: false },
  });
  return result as GeneratedCertificate;
}

import { X509Certificate, createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { CredentialError } from "@daemon-auth/core";
import { looksLikePem, pemBlocks, type PemBlock } from "./pem.js";
import { readPfx } from "./pkcs12.js";

/** A JWS algorithm a certificate credential signs with. */
export type SigningAlgorithm = "PS256" | "RS256" | "ES256" | "ES384" | "ES512";

/** Hex (uppercase) thumbprints of the leaf certificate, as the Azure portal shows them. */
export interface CertificateThumbprints {
  /** SHA-1 thumbprint: what the portal lists as "Thumbprint". */
  readonly sha1: string;
  /** SHA-256 thumbprint. */
  readonly sha256: string;
}

/** A parsed certificate chain and, unless signing happens elsewhere, its private key. */
export interface CertificateMaterial {
  /** Where the material came from, for messages: `file "/path"` or `` the `pem` option ``. */
  readonly origin: string;
  /** `undefined` when a {@link CertificateSigner}-style remote signer holds the key. */
  readonly key: KeyObject | undefined;
  /** The algorithm family the leaf's key allows: RSA keys sign PS256/RS256, EC keys their curve's ES*. */
  readonly keyAlgorithms: readonly SigningAlgorithm[];
  /** Leaf first, then its issuers, then any other certificate of the source in source order. */
  readonly chain: readonly X509Certificate[];
  /** `x5c`: base64 (not url) DER of {@link chain}. */
  readonly x5c: readonly string[];
  /** `x5t`: base64url SHA-1 of the leaf's DER. */
  readonly x5t: string;
  /** `x5t#S256`: base64url SHA-256 of the leaf's DER. */
  readonly x5tS256: string;
  readonly thumbprints: CertificateThumbprints;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const KEY_LABELS = new Set(["PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);
const CERTIFICATE_LABELS = new Set(["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"]);
const EC_ALGORITHMS: Readonly<Record<string, SigningAlgorithm>> = {
  prime256v1: "ES256",
  secp384r1: "ES384",
  secp521r1: "ES512",
};

/**
 * Reads PEM or PFX bytes: PEM when they contain a PEM armour, otherwise PFX (DER, or
 * base64 text as Key Vault and CI secrets often hold it).
 */
export function materialFromBytes(data: Uint8Array, password: string | undefined, origin: string): CertificateMaterial {
  if (looksLikePem(data)) return materialFromPem(Buffer.from(data).toString("utf8"), password, origin);
  return materialFromPfx(pfxBytes(data, origin), password, origin);
}

/** A PEM file or string holding the certificate (chain) and the private key. */
export function materialFromPem(text: string, password: string | undefined, origin: string): CertificateMaterial {
  const blocks = pemBlocks(text);
  const certificates = certificatesFromPem(blocks, origin);
  const key = privateKeyFromPem(blocks, password, origin);
  if (certificates.length === 0) {
    throw new CredentialError(
      `No certificate found in ${origin}: add the certificate ("-----BEGIN CERTIFICATE-----") next to the private key, ` +
        "or pass the certificate and the key as two files with `certificatePath` and `privateKeyPath`.",
    );
  }
  if (!key) throw missingKey(origin);
  return assemble(certificates, key, origin);
}

/** A certificate PEM file and a separate private key PEM file. */
export function materialFromPemPair(
  certificateText: string,
  certificateOrigin: string,
  keyText: string,
  keyOrigin: string,
  password: string | undefined,
): CertificateMaterial {
  const certificates = certificatesFromPem(pemBlocks(certificateText), certificateOrigin);
  if (certificates.length === 0) {
    throw new CredentialError(
      `No certificate found in ${certificateOrigin}: \`certificatePath\` must name a PEM file with a "-----BEGIN CERTIFICATE-----" block.`,
    );
  }
  const key = privateKeyFromPem(pemBlocks(keyText), password, keyOrigin);
  if (!key) throw missingKey(keyOrigin);
  return assemble(certificates, key, `${certificateOrigin} and ${keyOrigin}`);
}

/** A PEM certificate chain without a key, for a remote signer. The first certificate is the leaf. */
export function materialFromChain(text: string, origin: string): CertificateMaterial {
  const certificates = certificatesFromPem(pemBlocks(text), origin);
  const leaf = certificates[0];
  if (!leaf) {
    throw new CredentialError(
      `No certificate found in ${origin}: pass the signer's certificate as PEM ("-----BEGIN CERTIFICATE-----"), leaf first.`,
    );
  }
  const keyAlgorithms = algorithmsFor(leaf.publicKey, origin);
  if (!keyAlgorithms.includes("PS256")) {
    throw new CredentialError(`The certificate in ${origin} has a ${leaf.publicKey.asymmetricKeyType ?? "non-RSA"} key: a signer must use an RSA key.`);
  }
  return describe(order(leaf, certificates), undefined, keyAlgorithms, origin);
}

/** A PFX/PKCS#12 archive (DER). */
export function materialFromPfx(der: Uint8Array, password: string | undefined, origin: string): CertificateMaterial {
  const { keys, certificates } = readPfx(der, password, origin);
  const parsed = certificates.map((certificate) => parseCertificate(certificate, origin));
  if (parsed.length === 0) {
    throw new CredentialError(`The PFX in ${origin} holds no certificate: export it again including the certificate.`);
  }
  if (keys.length === 0) throw missingKey(origin);
  const privateKeys = keys.map((key) => {
    try {
      return createPrivateKey({ key: Buffer.from(key), format: "der", type: "pkcs8" });
    } catch (cause) {
      throw new CredentialError(`The private key in the PFX in ${origin} could not be read: export the PFX again.`, { cause });
    }
  });
  // A PFX may carry more than one key (old and new during a rotation); use the one whose certificate is inside.
  const matching = privateKeys.find((key) => parsed.some((certificate) => keyMatches(certificate, key)));
  return assemble(parsed, matching ?? privateKeys[0]!, origin);
}

/** The DER of a PFX given as bytes or base64 text. */
export function pfxBytes(data: Uint8Array | string, origin: string): Uint8Array {
  if (typeof data !== "string" && data[0] === 0x30) return data;
  const text = typeof data === "string" ? data : Buffer.from(data).toString("latin1");
  const compact = text.replace(/\s+/g, "");
  const decoded = /^[A-Za-z0-9+/_-]+={0,2}$/.test(compact) ? Buffer.from(compact, "base64") : undefined;
  if (decoded?.[0] === 0x30) return decoded;
  throw new CredentialError(
    `${capitalize(origin)} is neither PEM nor PFX/PKCS#12 (DER or base64): pass a PEM file with the certificate and the private key, or a .pfx export.`,
  );
}

function certificatesFromPem(blocks: readonly PemBlock[], origin: string): X509Certificate[] {
  return blocks.filter((block) => CERTIFICATE_LABELS.has(block.label)).map((block) => parseCertificate(block.text, origin));
}

function parseCertificate(data: string | Uint8Array, origin: string): X509Certificate {
  try {
    return new X509Certificate(typeof data === "string" ? data : Buffer.from(data));
  } catch (cause) {
    throw new CredentialError(`A certificate in ${origin} could not be parsed: replace it with a valid X.509 certificate.`, { cause });
  }
}

function privateKeyFromPem(blocks: readonly PemBlock[], password: string | undefined, origin: string): KeyObject | undefined {
  const unsupported = blocks.find((block) => block.label.endsWith("PRIVATE KEY") && !KEY_LABELS.has(block.label));
  if (unsupported) {
    throw new CredentialError(
      `The "${unsupported.label}" in ${origin} is not supported: convert it to PKCS#8 with ` +
        "`openssl pkcs8 -topk8 -in old.pem -out key.pem` (an RSA key; EC works for servers other than Entra ID).",
    );
  }
  const keyBlocks = blocks.filter((block) => KEY_LABELS.has(block.label));
  if (keyBlocks.length > 1) {
    throw new CredentialError(`${capitalize(origin)} holds ${keyBlocks.length} private keys: keep only the certificate's key.`);
  }
  const block = keyBlocks[0];
  if (!block) return undefined;
  const encrypted = block.label === "ENCRYPTED PRIVATE KEY" || /^Proc-Type:\s*4,ENCRYPTED/m.test(block.text);
  if (encrypted && password === undefined) {
    throw new CredentialError(`The private key in ${origin} is encrypted: pass its password in the \`password\` option.`);
  }
  try {
    return createPrivateKey(password === undefined ? block.text : { key: block.text, format: "pem", passphrase: password });
  } catch (cause) {
    throw new CredentialError(
      encrypted
        ? `The password does not decrypt the private key in ${origin}: check the \`password\` option.`
        : `The private key in ${origin} could not be read: replace it with a PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY") PEM key.`,
      { cause },
    );
  }
}

function missingKey(origin: string): CredentialError {
  return new CredentialError(
    `No private key found in ${origin}: add the certificate's private key ("-----BEGIN PRIVATE KEY-----") or pass it with ` +
      "`privateKeyPath`; when the key lives in an HSM or Key Vault, use the `signer` option.",
  );
}

function assemble(certificates: readonly X509Certificate[], key: KeyObject, origin: string): CertificateMaterial {
  const keyAlgorithms = algorithmsFor(key, origin);
  const leaf = certificates.find((certificate) => keyMatches(certificate, key));
  if (!leaf) {
    const first = certificates[0]!;
    throw new CredentialError(
      `The private key in ${origin} does not match its certificate (${subjectName(first)}, x5t#S256=${thumbprint(first, "sha256")}): ` +
        "use the key that was generated with this certificate.",
    );
  }
  return describe(order(leaf, certificates), key, keyAlgorithms, origin);
}

function keyMatches(certificate: X509Certificate, key: KeyObject): boolean {
  try {
    return certificate.checkPrivateKey(key);
  } catch {
    return false;
  }
}

function algorithmsFor(key: KeyObject, origin: string): SigningAlgorithm[] {
  const type = key.asymmetricKeyType;
  if (type === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) {
      throw new CredentialError(`The RSA key in ${origin} has ${bits} bits: use a key of 2048 bits or more (RFC 7518 §3.3).`);
    }
    return ["PS256", "RS256"];
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const ec = type === "ec" && curve !== undefined ? EC_ALGORITHMS[curve] : undefined;
  if (ec) return [ec];
  throw new CredentialError(
    `The key in ${origin} is a ${type ?? "unknown"}${curve ? ` (${curve})` : ""} key: use an RSA key of 2048 bits or more ` +
      "(Entra ID accepts RSA only), or an EC key on P-256, P-384 or P-521 for other servers.",
  );
}

// Leaf, then each issuer found in the source, then whatever is left in source order.
function order(leaf: X509Certificate, certificates: readonly X509Certificate[]): X509Certificate[] {
  const rest = certificates.filter((certificate) => certificate !== leaf);
  const chain = [leaf];
  for (let current = leaf; ; ) {
    const index = rest.findIndex((candidate) => current.checkIssued(candidate));
    if (index < 0) break;
    current = rest.splice(index, 1)[0]!;
    chain.push(current);
  }
  return [...chain, ...rest];
}

function describe(
  chain: readonly X509Certificate[],
  key: KeyObject | undefined,
  keyAlgorithms: readonly SigningAlgorithm[],
  origin: string,
): CertificateMaterial {
  const leaf = chain[0]!;
  return {
    origin,
    key,
    keyAlgorithms,
    chain,
    x5c: chain.map((certificate) => certificate.raw.toString("base64")),
    x5t: createHash("sha1").update(leaf.raw).digest("base64url"),
    x5tS256: thumbprint(leaf, "sha256"),
    thumbprints: {
      sha1: createHash("sha1").update(leaf.raw).digest("hex").toUpperCase(),
      sha256: createHash("sha256").update(leaf.raw).digest("hex").toUpperCase(),
    },
    subject: subjectName(leaf),
    issuer: leaf.issuer.split("\n").join(", "),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
  };
}

function thumbprint(certificate: X509Certificate, algorithm: "sha1" | "sha256"): string {
  return createHash(algorithm).update(certificate.raw).digest("base64url");
}

/** `CN=…` when the subject has a common name, else the whole subject on one line. */
function subjectName(certificate: X509Certificate): string {
  const lines = certificate.subject.split("\n");
  return lines.find((line) => line.startsWith("CN=")) ?? lines.join(", ");
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

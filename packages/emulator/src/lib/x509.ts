// Builds X.509 v3 certificates (RFC 5280) with node-forge, signed with
// RSA-SHA256: the emulator's TLS CA and server certificate, its token signing
// certificate and test client certificates. Keys come from node:crypto, and
// node:crypto signs: forge's pure-JS RSA would add a visible delay to every
// emulator start (the token signing certificate is made anew each time).
import { randomBytes, sign, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

/** What a certificate says and who signs it. */
export interface CertificateSpec {
  subject: string;
  /** Defaults to the subject (self-signed). */
  issuer?: string;
  publicKey: KeyObject;
  /** The issuer's key (RSA); the subject's own key for a self-signed certificate. */
  signingKey: KeyObject;
  /** The issuer's public key, for the authority key identifier. Defaults to `publicKey`. */
  issuerPublicKey?: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCa?: boolean;
  /** DNS names and IP addresses for subjectAltName. */
  altNames?: readonly string[];
  extendedKeyUsage?: readonly ("serverAuth" | "clientAuth")[];
}

// forge encodes RSA public keys only, so certificates are for RSA keys, signed by RSA keys.
function requireRsa(key: KeyObject): void {
  if (key.asymmetricKeyType !== "rsa") throw new TypeError(`Certificates are built for RSA keys; got a ${key.asymmetricKeyType ?? "non-asymmetric"} key.`);
}

function forgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  requireRsa(key);
  return forge.pki.publicKeyFromPem(key.export({ type: "spki", format: "pem" }).toString());
}

function keyIdentifier(key: forge.pki.rsa.PublicKey): string {
  return forge.pki.getPublicKeyFingerprint(key, { type: "RSAPublicKey", md: forge.md.sha1.create() }).getBytes();
}

// UTF8String values, so that any subject text is valid (forge's type declarations call the tag a class).
const UTF8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;

function name(commonName: string): forge.pki.CertificateField[] {
  return [
    { shortName: "O", value: "daemon-auth", valueTagClass: UTF8 },
    { shortName: "CN", value: commonName, valueTagClass: UTF8 },
  ];
}

function altName(value: string): { type: number; value?: string; ip?: string } {
  const bare = value.replace(/^\[|\]$/g, "");
  // GeneralName: [7] iPAddress, [2] dNSName.
  return isIP(bare) !== 0 ? { type: 7, ip: bare } : { type: 2, value };
}

// forge exports getTBSCertificate (certificate.sign uses it), but its type declarations omit it.
const { getTBSCertificate: tbsCertificate } = forge.pki as unknown as { getTBSCertificate: (this: void, certificate: forge.pki.Certificate) => forge.asn1.Asn1 };

/** Returns the DER encoding of a new certificate. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forgePublicKey(spec.publicKey);
  const serial = randomBytes(16);
  // A positive serial number: DER integers are signed.
  serial[0] = serial[0]! & 0x7f;
  certificate.serialNumber = serial.toString("hex");
  certificate.validity.notBefore = spec.notBefore;
  certificate.validity.notAfter = spec.notAfter;
  certificate.setSubject(name(spec.subject));
  certificate.setIssuer(name(spec.issuer ?? spec.subject));
  const issuerKey = spec.issuerPublicKey === undefined ? certificate.publicKey : forgePublicKey(spec.issuerPublicKey);
  const extensions: Record<string, unknown>[] = [
    spec.isCa === true ? { name: "basicConstraints", critical: true, cA: true, pathLenConstraint: 0 } : { name: "basicConstraints", critical: true },
    spec.isCa === true
      ? { name: "keyUsage", critical: true, digitalSignature: true, keyCertSign: true, cRLSign: true }
      : { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    { name: "subjectKeyIdentifier", subjectKeyIdentifier: forge.util.bytesToHex(keyIdentifier(certificate.publicKey)) },
    { name: "authorityKeyIdentifier", keyIdentifier: keyIdentifier(issuerKey) },
  ];
  if (spec.altNames !== undefined && spec.altNames.length > 0) extensions.push({ name: "subjectAltName", altNames: spec.altNames.map(altName) });
  if (spec.extendedKeyUsage !== undefined && spec.extendedKeyUsage.length > 0) {
    extensions.push({ name: "extKeyUsage", ...Object.fromEntries(spec.extendedKeyUsage.map((usage) => [usage, true])) });
  }
  certificate.setExtensions(extensions);
  requireRsa(spec.signingKey);
  // What forge's certificate.sign does, with the signature from node:crypto.
  certificate.signatureOid = certificate.siginfo.algorithmOid = forge.pki.oids["sha256WithRSAEncryption"] ?? "1.2.840.113549.1.1.11";
  const tbs = forge.asn1.toDer(tbsCertificate(certificate)).getBytes();
  certificate.signature = sign("sha256", Buffer.from(tbs, "binary"), spec.signingKey).toString("binary");
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(), "binary");
}

/** PEM armour for DER bytes. */
export function toPem(label: string, body: Uint8Array): string {
  const lines = Buffer.from(body).toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

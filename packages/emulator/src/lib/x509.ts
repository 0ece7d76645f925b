// Builds X.509 v3 certificates (RFC 5280) signed with RSA-SHA256 or
// ECDSA-SHA256, for the emulator's TLS CA / server certificate, its token
// signing certificate and test client certificates.
import { createHash, randomBytes, sign, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import * as der from "./der.js";

const OID = {
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organizationName: "2.5.4.10",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

export interface CertificateSpec {
  subject: string;
  /** Defaults to the subject (self-signed). */
  issuer?: string;
  publicKey: KeyObject;
  /** The issuer's key; the subject's own key for a self-signed certificate. */
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

function name(commonName: string): Buffer {
  return der.sequence(
    der.set(der.sequence(der.objectIdentifier(OID.organizationName), der.utf8String("daemon-auth"))),
    der.set(der.sequence(der.objectIdentifier(OID.commonName), der.utf8String(commonName))),
  );
}

function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash("sha1").update(publicKey.export({ type: "spki", format: "der" })).digest();
}

function extension(oid: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? der.sequence(der.objectIdentifier(oid), der.boolean(true), der.octetString(value))
    : der.sequence(der.objectIdentifier(oid), der.octetString(value));
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split(".").map(Number));
  // Expand "::" so every address becomes eight 16-bit groups.
  const [head = "", tail] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2));
  return bytes;
}

function generalName(value: string): Buffer {
  const bare = value.replace(/^\[|\]$/g, "");
  return isIP(bare) !== 0 ? der.implicitPrimitive(7, ipBytes(bare)) : der.implicitPrimitive(2, Buffer.from(value, "ascii"));
}

/** Returns the DER encoding of a new certificate. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  // RFC 5758: ECDSA algorithm identifiers carry no parameters; RSA ones carry NULL.
  const algorithm =
    spec.signingKey.asymmetricKeyType === "ec"
      ? der.sequence(der.objectIdentifier(OID.ecdsaWithSHA256))
      : der.sequence(der.objectIdentifier(OID.sha256WithRSAEncryption), der.nullValue());
  const extensions: Buffer[] = [
    extension(OID.basicConstraints, true, spec.isCa === true ? der.sequence(der.boolean(true), der.smallInteger(0)) : der.sequence()),
    extension(OID.keyUsage, true, spec.isCa === true ? der.namedBits([0, 5, 6]) : der.namedBits([0, 2])),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(spec.publicKey))),
    extension(
      OID.authorityKeyIdentifier,
      false,
      der.sequence(der.implicitPrimitive(0, keyIdentifier(spec.issuerPublicKey ?? spec.publicKey))),
    ),
  ];
  if (spec.altNames !== undefined && spec.altNames.length > 0) {
    extensions.push(extension(OID.subjectAltName, false, der.sequence(...spec.altNames.map(generalName))));
  }
  if (spec.extendedKeyUsage !== undefined && spec.extendedKeyUsage.length > 0) {
    extensions.push(
      extension(OID.extKeyUsage, false, der.sequence(...spec.extendedKeyUsage.map((usage) => der.objectIdentifier(OID[usage])))),
    );
  }
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.integer(serial),
    algorithm,
    name(spec.issuer ?? spec.subject),
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    name(spec.subject),
    spec.publicKey.export({ type: "spki", format: "der" }),
    der.explicit(3, der.sequence(...extensions)),
  );
  // For EC keys node:crypto emits the DER-encoded ECDSA-Sig-Value X.509 expects.
  const signature = sign("sha256", tbs, spec.signingKey);
  return der.sequence(tbs, algorithm, der.bitString(signature));
}

export function toPem(label: string, body: Uint8Array): string {
  const base64 = Buffer.from(body).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

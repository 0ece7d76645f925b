import { CredentialError } from "@daemon-auth/core";
import forge from "node-forge";

/** The DER contents of a PFX: PKCS#8 private keys and X.509 certificates, in archive order. */
export interface PfxContents {
  readonly keys: Uint8Array[];
  readonly certificates: Uint8Array[];
}

const { oids } = forge.pki;

/**
 * Opens a PFX/PKCS#12 archive. node-forge is used only here: `node:crypto` cannot read
 * PKCS#12, and forge (pure JS) still reads legacy RC2/3DES archives that OpenSSL 3
 * refuses without its legacy provider.
 */
export function readPfx(der: Uint8Array, password: string | undefined, origin: string): PfxContents {
  let asn1: forge.asn1.Asn1;
  try {
    // Strict on the outer structure so a truncated file is reported as such; the inner
    // structures are read leniently below (some exporters write sloppy lengths there).
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString("binary")), true);
  } catch (cause) {
    throw new CredentialError(
      `The PFX in ${origin} could not be decoded: it is truncated or not a PKCS#12 file. Export it again (certificate with private key).`,
      { cause },
    );
  }
  const pfx = open(asn1, password, origin);
  const keys = [...bags(pfx, oids.pkcs8ShroudedKeyBag!), ...bags(pfx, oids.keyBag!)].map((bag) =>
    // forge only turns RSA keys into objects; other keys (EC) stay as their PrivateKeyInfo.
    toBytes(bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag.asn1),
  );
  const certificates = bags(pfx, oids.certBag!).map((bag) => toBytes(bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1));
  return { keys, certificates };
}

function open(asn1: forge.asn1.Asn1, password: string | undefined, origin: string): forge.pkcs12.Pkcs12Pfx {
  // "No password" is written as an empty BMPString by OpenSSL and as no password at all by some tools.
  const attempts = password ? [password] : ["", undefined];
  let failure: unknown;
  for (const attempt of attempts) {
    try {
      return forge.pkcs12.pkcs12FromAsn1(asn1, false, attempt);
    } catch (error) {
      failure = error;
      if (!isPasswordError(error)) break;
    }
  }
  if (isPasswordError(failure)) {
    throw new CredentialError(
      password
        ? `The password does not open the PFX in ${origin}: check the \`password\` option.`
        : `The PFX in ${origin} is password-protected: pass its password in the \`password\` option.`,
      { cause: failure },
    );
  }
  throw new CredentialError(
    `The PFX in ${origin} could not be read: check the \`password\` option, and that the file is a complete PKCS#12 export with the private key.`,
    { cause: failure },
  );
}

function isPasswordError(error: unknown): boolean {
  return error instanceof Error && /password/i.test(error.message);
}

function bags(pfx: forge.pkcs12.Pkcs12Pfx, type: string): forge.pkcs12.Bag[] {
  return pfx.getBags({ bagType: type })[type] ?? [];
}

function toBytes(asn1: forge.asn1.Asn1): Uint8Array {
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}

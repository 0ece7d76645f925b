// The emulated vault's keys: RSA key pairs made and kept in the emulator, with
// Key Vault's sign and verify operations over a digest the client computed.
// Keys are never exportable: only the public JWK (n, e) leaves this module.
// node:crypto does the RSA operation; node-forge encodes the padding (EMSA-PSS,
// PKCS#1 v1.5 DigestInfo), because node:crypto signs messages, not digests.
import { constants, createPublicKey, generateKeyPair, privateEncrypt, publicDecrypt, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import forge from "node-forge";
import { recordSecret } from "./secret-ledger.js";
import { newVaultVersion } from "./vault-auth.js";
import { VaultVersions } from "./vault-versions.js";

const generateRsaKeyPair = promisify(generateKeyPair);

/** The signature algorithms of the emulated vault (Key Vault's RSA ones). */
export const VAULT_SIGN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] as const;
export type VaultSignAlgorithm = (typeof VAULT_SIGN_ALGORITHMS)[number];

/** What Key Vault allows on an RSA key it holds. */
const KEY_OPS = ["sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey"];

/** One version of a key. The private key is non-enumerable: inspect and JSON never show it. */
export interface VaultKeyVersion {
  readonly name: string;
  readonly version: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly created: number;
  enabled: boolean;
  /** Made by a certificate (`managed: true` in Key Vault's answers). */
  readonly managed: boolean;
}

function hashOf(algorithm: VaultSignAlgorithm): { name: "sha256" | "sha384" | "sha512"; length: number } {
  const bits = algorithm.slice(2);
  return { name: `sha${bits}` as "sha256" | "sha384" | "sha512", length: Number(bits) / 8 };
}

function forgeDigest(name: "sha256" | "sha384" | "sha512"): forge.md.MessageDigest {
  return forge.md[name].create();
}

// A forge message digest that already holds `digest`: forge's encoders only read
// `algorithm` and `digest()`, so the client's digest is signed as is.
function precomputed(name: string, digest: Buffer): { algorithm: string; digest(): forge.util.ByteStringBuffer } {
  return { algorithm: name, digest: () => forge.util.createBuffer(digest.toString("binary")) };
}

// forge's PSS scheme (its type declarations say `any`).
interface PssScheme {
  encode(md: unknown, modulusBits: number): string;
  verify(hash: string, encoded: string, modulusBits: number): boolean;
}

function pss(name: "sha256" | "sha384" | "sha512", saltLength: number): PssScheme {
  const mgf = forge.mgf.mgf1.create(forgeDigest(name)) as unknown;
  return forge.pss.create({ md: forgeDigest(name), mgf, saltLength }) as PssScheme;
}

// DigestInfo (RFC 8017 §9.2): the PKCS#1 v1.5 signature's payload.
function digestInfo(name: string, digest: Buffer): Buffer {
  const { asn1 } = forge;
  const oid = forge.pki.oids[name];
  if (oid === undefined) throw new TypeError(`No OID for ${name}.`);
  const info = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ""),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, digest.toString("binary")),
  ]);
  return Buffer.from(asn1.toDer(info).getBytes(), "binary");
}

function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 2048;
}

/** Whether `digest` has the length `algorithm`'s hash gives. */
export function digestFits(algorithm: VaultSignAlgorithm, digest: Buffer): boolean {
  return digest.length === hashOf(algorithm).length;
}

/** Signs a digest the way Key Vault's `sign` operation does (PSS salt = hash length). */
export function signDigest(key: VaultKeyVersion, algorithm: VaultSignAlgorithm, digest: Buffer): Buffer {
  const hash = hashOf(algorithm);
  if (algorithm.startsWith("RS")) {
    return privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash.name, digest));
  }
  const encoded = pss(hash.name, hash.length).encode(precomputed(hash.name, digest), modulusBits(key.publicKey));
  const bytes = Math.ceil(modulusBits(key.publicKey) / 8);
  return privateEncrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(encoded.padStart(bytes, "\0"), "binary"));
}

/** Checks a signature over a digest (Key Vault's `verify` operation). */
export function verifyDigest(key: VaultKeyVersion, algorithm: VaultSignAlgorithm, digest: Buffer, signature: Buffer): boolean {
  const hash = hashOf(algorithm);
  try {
    if (algorithm.startsWith("RS")) {
      return publicDecrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature).equals(digestInfo(hash.name, digest));
    }
    const bits = modulusBits(key.publicKey);
    const raw = publicDecrypt({ key: key.publicKey, padding: constants.RSA_NO_PADDING }, signature);
    const encoded = raw.subarray(raw.length - Math.ceil((bits - 1) / 8));
    return pss(hash.name, hash.length).verify(digest.toString("binary"), encoded.toString("binary"), bits);
  } catch {
    return false;
  }
}

/** The public part of a key version as Key Vault's JSON Web Key (`kid`, `kty`, `key_ops`, `n`, `e`). */
export function publicJwk(key: VaultKeyVersion, kid: string): Record<string, unknown> {
  const { n, e } = key.publicKey.export({ format: "jwk" });
  return { kid, kty: "RSA", key_ops: KEY_OPS, n, e };
}

/** Options of {@link VaultKeys.create}. */
export interface CreateVaultKeyOptions {
  /** @default 2048 */
  size?: number;
  /** The version id (a certificate's key takes the certificate's version). */
  version?: string;
  managed?: boolean;
}

/** Every key of the vault, by lower-cased name, oldest version first. */
export class VaultKeys {
  private readonly keys = new VaultVersions<VaultKeyVersion>();

  constructor(private readonly clock: () => number) {}

  /** Makes a new RSA key version (the key too, for a new name). */
  async create(name: string, options: CreateVaultKeyOptions = {}): Promise<VaultKeyVersion> {
    const size = options.size ?? 2048;
    const { privateKey } = await generateRsaKeyPair("rsa", { modulusLength: size });
    recordSecret("private key", privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const entry = {
      name,
      version: options.version ?? newVaultVersion(),
      publicKey: createPublicKey(privateKey),
      created: Math.floor(this.clock() / 1000),
      enabled: true,
      managed: options.managed ?? false,
    };
    Object.defineProperty(entry, "privateKey", { value: privateKey, enumerable: false });
    return this.keys.add(name, entry as VaultKeyVersion);
  }

  /** The version asked for, or the newest one; `undefined` when there is none. */
  find(name: string, version?: string): VaultKeyVersion | undefined {
    return this.keys.find(name, version);
  }

  /** Every version of the key, oldest first. */
  versions(name: string): readonly VaultKeyVersion[] {
    return this.keys.versions(name);
  }
}

/**
 * Encryption at rest for any {@link TokenCacheStore}: AES-256-GCM through WebCrypto,
 * so it runs wherever core runs (no `node:` imports).
 *
 * @see https://csrc.nist.gov/pubs/sp/800/38/d/final (GCM)
 */
import type { StoreLock, StoreLockOptions, TokenCacheStore } from "./cache-store.js";
import { ConfigurationError } from "./errors.js";
import { redacted } from "./redacted.js";

/** Options of {@link encryptedStore}. */
export interface EncryptedStoreOptions {
  /**
   * The AES-256 key: 32 bytes, or those 32 bytes in base64 (base64url is accepted too).
   * Make one with `openssl rand -base64 32` and keep it in a secret store; every process
   * sharing the cache needs the same key.
   */
  key: Uint8Array | string;
}

const FORMAT_VERSION = "v1";
const IV_BYTES = 12;
const KEY_BYTES = 32;
// Binding the format and the cache key as additional data means a ciphertext copied
// under another key (or read by a future format) fails authentication instead of
// handing out the wrong token.
const AAD_PREFIX = "daemon-auth/encrypted-store/v1\u0000";

/**
 * Wraps `store` so that every value is encrypted with AES-256-GCM before it reaches
 * the store: a random 96-bit IV per write, the cache key bound as additional
 * authenticated data, stored as `v1.<iv>.<ciphertext>` (base64url). A value that does
 * not decrypt (another key, tampered, written unencrypted) reads as a miss, never as an
 * error, so rotating the key only costs one token request per entry. `lock`,
 * `dispose` and `name` pass through; keys are not encrypted.
 *
 * @example
 * const cache = encryptedStore(createFileCache({ directory }), { key: process.env.CACHE_KEY! });
 *
 * @throws {ConfigurationError} when the key is not 32 bytes.
 */
export function encryptedStore(store: TokenCacheStore, options: EncryptedStoreOptions): TokenCacheStore {
  const rawKey = decodeKey(options.key);
  // Named through `crypto` because the global `CryptoKey` type is missing under Node-only typings.
  let cryptoKey: ReturnType<typeof crypto.subtle.importKey> | undefined;
  const getKey = (): ReturnType<typeof crypto.subtle.importKey> => {
    // Imported once and non-extractable; our copy of the bytes is wiped afterwards.
    cryptoKey ??= crypto.subtle
      .importKey("raw", rawKey, { name: "AES-GCM" }, false, ["encrypt", "decrypt"])
      .finally(() => rawKey.fill(0));
    return cryptoKey;
  };
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });

  const wrapper: TokenCacheStore = {
    ...(store.name === undefined ? {} : { name: store.name }),

    async get(key: string): Promise<string | undefined> {
      const stored = await store.get(key);
      if (stored === undefined) return undefined;
      const parts = stored.split(".");
      if (parts.length !== 3 || parts[0] !== FORMAT_VERSION) return undefined;
      try {
        const iv = fromBase64Url(parts[1] ?? "");
        const ciphertext = fromBase64Url(parts[2] ?? "");
        if (iv.length !== IV_BYTES) return undefined;
        const plaintext = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv, additionalData: encoder.encode(AAD_PREFIX + key) },
          await getKey(),
          ciphertext,
        );
        return decoder.decode(plaintext);
      } catch {
        return undefined;
      }
    },

    async set(key: string, value: string, expiresAt: number): Promise<void> {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const ciphertext = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(AAD_PREFIX + key) },
        await getKey(),
        encoder.encode(value),
      );
      await store.set(key, `${FORMAT_VERSION}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ciphertext))}`, expiresAt);
    },

    delete(key: string): Promise<void> {
      return store.delete(key);
    },
  };
  if (store.lock !== undefined) {
    const lock = store.lock.bind(store);
    wrapper.lock = (key: string, lockOptions: StoreLockOptions): Promise<StoreLock | undefined> => lock(key, lockOptions);
  }
  if (store.dispose !== undefined) {
    const dispose = store.dispose.bind(store);
    wrapper.dispose = () => dispose();
  }
  return redacted(wrapper, `EncryptedStore(${store.name ?? "store"})`);
}

function decodeKey(key: Uint8Array | string): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer> | undefined;
  if (key instanceof Uint8Array) {
    bytes = new Uint8Array(key);
  } else if (typeof key === "string") {
    try {
      bytes = fromBase64Url(key.trim());
    } catch {
      bytes = undefined;
    }
  }
  if (bytes?.length !== KEY_BYTES) {
    const got =
      bytes === undefined
        ? typeof key === "string"
          ? "a string that is not base64"
          : `a ${typeof key}`
        : `${bytes.length} bytes`;
    throw new ConfigurationError(
      `The cache encryption key must be 32 bytes for AES-256 (got ${got}). ` +
        "Generate one with `openssl rand -base64 32` and pass that base64 string or its 32 bytes as the key.",
    );
  }
  return bytes;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  // Chunked so that large values do not overflow the argument limit of fromCharCode.
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes base64 or base64url, padded or not; throws on anything else. */
function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new Error("not base64");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, ""));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

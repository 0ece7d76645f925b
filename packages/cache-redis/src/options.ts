// The options of createRedisCache and their checks, in the dialect of
// @daemon-auth/core/adapter (`createRedisCache: '<option>' …`).
import { optionChecks } from "@daemon-auth/core/adapter";
import { Cluster, Redis, type RedisOptions } from "ioredis";

/** Options of {@link createRedisCache}. Give exactly one of `url` or `client`. */
export interface RedisCacheOptions {
  /**
   * Where Redis is: `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS.
   * The store creates its own client, connects on first use and closes it on `dispose()`.
   */
  url?: string;
  /**
   * An ioredis client you built: a `Redis` (standalone or Sentinel) or a `Cluster`.
   * Shares your pool and settings; `dispose()` leaves it open.
   */
  client?: Redis | Cluster;
  /**
   * Prepended to every key this store writes, so several applications can share a Redis.
   * A Redis Cluster hash tag in it (`"{my-app}:"`) puts every key of the store in one
   * slot; an empty tag `{}` is refused, since it would split an entry from its lock.
   * @default "daemon-auth:"
   */
  keyPrefix?: string;
  /** ioredis TLS options (CA, client certificate, `servername`…) for a `url`. A `rediss://` URL turns TLS on by itself. */
  tls?: RedisOptions["tls"];
  /**
   * Encrypts values at rest with AES-256-GCM: 32 bytes, or base64 of 32 bytes
   * (`openssl rand -base64 32`). Every process sharing the cache needs the same key.
   * @default no encryption
   */
  encryptionKey?: Uint8Array | string;
  /**
   * Longest wait for Redis per operation, in milliseconds. Past it the operation fails
   * with a `CacheError` (from `@daemon-auth/core`) and the client goes to the token endpoint instead.
   * @default 500
   */
  commandTimeoutMs?: number;
  /**
   * The largest value the store writes or reads, in bytes (the ciphertext when
   * encrypted). `get()` fetches at most this many bytes and one more, so a huge value
   * planted under a key is refused with a `CacheError` (from `@daemon-auth/core`) instead of being
   * transferred and parsed whole; `set()` refuses a larger value. An entry holds one
   * token: even a token with many role claims stays far below 64 KiB.
   * @default 1048576 (1 MiB)
   */
  maxEntryBytes?: number;
}

const DEFAULT_PREFIX = "daemon-auth:";
const DEFAULT_COMMAND_TIMEOUT_MS = 500;
const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;

/** A client the store talks through: a single node (or Sentinel master) or a Cluster. */
export type RedisClient = Redis | Cluster;

/** The options, checked and defaulted. */
export interface ValidatedOptions {
  url: string | undefined;
  client: RedisClient | undefined;
  keyPrefix: string;
  tls: RedisOptions["tls"] | undefined;
  encryptionKey: Uint8Array | string | undefined;
  commandTimeoutMs: number;
  maxEntryBytes: number;
}

/** Checks and defaults the options; every refusal is a `ConfigurationError` that says what to pass. */
export function validate(options: RedisCacheOptions): ValidatedOptions {
  const check = optionChecks("createRedisCache");
  if (typeof options !== "object" || options === null) {
    throw check.error("pass options: { url } or { client }.");
  }
  const { url, client } = options;
  if ((url === undefined) === (client === undefined)) {
    throw check.error(
      "give exactly one of 'url' (for example process.env.REDIS_URL) or 'client' (an ioredis Redis or Cluster).",
    );
  }
  if (url !== undefined) {
    let protocol: string | undefined;
    try {
      protocol = new URL(url).protocol;
    } catch {
      protocol = undefined;
    }
    // The URL may carry a password: never repeat it in the message.
    if (protocol !== "redis:" && protocol !== "rediss:") {
      throw check.error(
        "'url' must be a redis:// or rediss:// URL, like redis://localhost:6379 or rediss://user:password@host:6380/0.",
      );
    }
  }
  if (client !== undefined && !(client instanceof Redis) && !(client instanceof Cluster)) {
    throw check.error(
      "'client' must be an ioredis Redis or Cluster instance (check that only one copy of ioredis is installed).",
    );
  }
  if (client !== undefined && options.tls !== undefined) {
    throw check.error("'tls' applies to 'url' only; configure TLS on the client you pass instead.");
  }
  const keyPrefix = options.keyPrefix ?? DEFAULT_PREFIX;
  if (typeof keyPrefix !== "string") {
    throw check.error(`'keyPrefix' must be a string, like "my-app:daemon-auth:".`);
  }
  // Redis Cluster hashes the whole name when its first `{` is followed by `}`: an entry
  // and its lock would then land in different slots.
  const brace = keyPrefix.indexOf("{");
  if (brace >= 0 && keyPrefix[brace + 1] === "}") {
    throw check.error(
      `'keyPrefix' must not contain an empty hash tag "{}"; remove it, or put a name inside ("{my-app}:") to keep all keys in one Redis Cluster slot.`,
    );
  }
  const commandTimeoutMs = check.milliseconds("commandTimeoutMs", options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS);
  const maxEntryBytes = check.byteLimit("maxEntryBytes", options.maxEntryBytes, DEFAULT_MAX_ENTRY_BYTES, 1024);
  return { url, client, keyPrefix, tls: options.tls, encryptionKey: options.encryptionKey, commandTimeoutMs, maxEntryBytes };
}

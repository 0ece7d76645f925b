// Reading ioredis failures without leaking credentials: what kind of refusal an error
// is, where the store points (never the URL), and causes stripped to name, redacted
// message and code.
import { Cluster, Redis } from "ioredis";
import type { RedisCacheOptions } from "../options.js";

export /** `host:port` for messages: never the URL itself, which may hold a password. */
function describeTarget(options: RedisCacheOptions): string {
  if (options.url !== undefined) {
    const url = new URL(options.url);
    return `${url.hostname}:${url.port || "6379"}`;
  }
  const client = options.client;
  if (client instanceof Cluster) return "a Redis Cluster";
  if (client instanceof Redis) {
    const { host, port, name, sentinels } = client.options;
    if (sentinels && sentinels.length > 0) return `Sentinel master ${name ?? "?"}`;
    return `${host ?? "localhost"}:${port ?? 6379}`;
  }
  return "Redis";
}

export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

/**
 * AUTH refused (wrong password, unknown or disabled user), or a command sent without
 * the password a server requires. Redis < 6 says "invalid password".
 */
export function isCredentialRefusal(error: unknown): error is Error {
  return isReplyError(error) && /^(WRONGPASS|NOAUTH)\b|invalid password/i.test(error.message);
}

/**
 * The TLS handshake failed because the server's certificate is not trusted: an unknown
 * or self-signed CA, a host name it does not name, an expired certificate (Node's
 * OpenSSL verification codes, and its own host name check).
 */
export function isCertificateRefusal(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/.test(code);
}

/**
 * Every string a message from ioredis or Redis could repeat that gives access to the
 * server: the URL, its userinfo and password (as written and decoded), a `password`
 * query parameter, and the password of an injected client. Longest first, so a
 * password inside the URL is never half-replaced.
 */
export function secretsOf(options: RedisCacheOptions): string[] {
  const secrets: string[] = [];
  if (options.url !== undefined) {
    const url = new URL(options.url);
    secrets.push(options.url, `${url.username}:${url.password}@`, url.password, url.searchParams.get("password") ?? "");
    try {
      secrets.push(decodeURIComponent(url.password));
    } catch {
      // Not valid percent-encoding: ioredis cannot decode it either, so only the raw form is sent.
    }
  }
  const client = options.client;
  const password = client instanceof Cluster ? client.options.redisOptions?.password : client?.options.password;
  if (typeof password === "string") secrets.push(password);
  return [...new Set(secrets)].filter((secret) => secret !== "" && secret !== ":@").sort((a, b) => b.length - a.length);
}

/** Replaces every secret in a text with `***`. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  return (text) => secrets.reduce((redactedText, secret) => redactedText.split(secret).join("***"), text);
}

/**
 * What is safe to keep of an error from ioredis: its name, its message without any
 * credential, and its code. Never the error itself: a ReplyError's `command.args` hold
 * the AUTH password or the token being written, and nested causes are not ours to vet.
 */
export function safeCause(error: unknown, redact: (text: string) => string): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const safe = new Error(redact(error.message));
  safe.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") Object.defineProperty(safe, "code", { value: code, enumerable: true });
  return safe;
}

import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ConfigurationError } from "@daemon-auth/core";

/** Fewest characters a header secret may have: anything shorter can be guessed over loopback. */
export const MIN_HEADER_LENGTH = 16;

/**
 * Checks a presented header against the secret in constant time. Both sides are hashed
 * first, so the comparison takes as long whatever the presented length is and
 * `timingSafeEqual` always sees equal-length inputs.
 */
export function headerMatcher(secret: string): (presented: string | undefined) => boolean {
  checkHeaderSecret(secret);
  const expected = hash("sha256", secret, "buffer");
  return (presented) => {
    // The one-shot hash: a Hash object per request costs several times more.
    const digest = hash("sha256", presented ?? "", "buffer");
    // Evaluated after the comparison so a missing header costs the same time as a wrong one.
    return timingSafeEqual(digest, expected) && presented !== undefined;
  };
}

/** Refuses a secret too short to resist guessing, or one that cannot travel in an HTTP header. */
export function checkHeaderSecret(secret: string): void {
  if (secret.length < MIN_HEADER_LENGTH) {
    throw new ConfigurationError(
      `The sidecar's header secret is shorter than ${MIN_HEADER_LENGTH} characters: use a random value, e.g. \`openssl rand -hex 32\`.`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(secret)) {
    throw new ConfigurationError(
      "The sidecar's header secret holds spaces or characters an HTTP header cannot carry: use printable ASCII, e.g. `openssl rand -hex 32`.",
    );
  }
}

/** What {@link readOrCreateHeaderFile} found. */
export interface HeaderFile {
  /** The secret (trimmed file content). */
  readonly secret: string;
  /** True when the file did not exist and was written with a new random secret. */
  readonly created: boolean;
}

/**
 * Reads the header secret from `path`, or, when the file does not exist, writes a new
 * random one there (32 random bytes, hex) with mode 0600 and an exclusive create, so two
 * sidecars racing to create it cannot each think their own secret is in force.
 *
 * @throws {ConfigurationError} when the file cannot be read or written, or holds an unusable secret.
 */
export async function readOrCreateHeaderFile(path: string): Promise<HeaderFile> {
  try {
    const secret = (await readFile(path, "utf8")).trim();
    checkHeaderSecret(secret);
    return { secret, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw fileError(error, path);
  }
  const secret = randomBytes(32).toString("hex");
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await open(path, "wx", 0o600);
    try {
      await handle.writeFile(`${secret}\n`);
      // The umask may have dropped bits of the mode, never added: chmod makes 0600 exact.
      await chmod(path, 0o600);
    } finally {
      await handle.close();
    }
  } catch (error) {
    // Another sidecar created it first: its secret is the one in force.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readOrCreateHeaderFile(path);
    throw fileError(error, path);
  }
  return { secret, created: true };
}

function fileError(error: unknown, path: string): ConfigurationError {
  if (error instanceof ConfigurationError) return new ConfigurationError(`${error.message} (in ${path})`);
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return new ConfigurationError(`The header file ${path} could not be used (${code}): check the path and its permissions.`, { cause: error });
}

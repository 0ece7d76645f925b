import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";

/** The `code` of a Node system error, if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A short random suffix for temporary file names. */
export function randomSuffix(): string {
  return randomBytes(8).toString("hex");
}

/** A file's content and identity, read through one descriptor so both describe the same file. */
export interface FileSnapshot {
  readonly text: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Why {@link readSnapshot} refused a file without reading it (or without reading it whole). */
export type RefusalReason = "link" | "special" | "large";

/** A cache file that is not a plain, small regular file: refused rather than read. */
export class RefusedFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: RefusalReason,
  ) {
    super(`${path} refused (${reason})`);
    this.name = "RefusedFileError";
  }
}

// O_NOFOLLOW: a link planted under an entry's name is refused, never followed to a file
// elsewhere. O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer
// that never comes (it is then refused by the fstat check). Windows has neither flag
// and no FIFOs or symlinks an unprivileged user can plant.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
// What open(O_NOFOLLOW) reports for a symbolic link: ELOOP on Linux and macOS, EMLINK on
// FreeBSD, EFTYPE on NetBSD.
const LINK_CODES = new Set(["ELOOP", "EMLINK", "EFTYPE"]);

/**
 * Reads `path`, at most `maxBytes` of it; `undefined` when it does not exist.
 *
 * @throws {RefusedFileError} when `path` is a symbolic link, not a regular file, or larger than `maxBytes`.
 */
export async function readSnapshot(path: string, maxBytes: number): Promise<FileSnapshot | undefined> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") return undefined;
    if (code !== undefined && LINK_CODES.has(code)) throw new RefusedFileError(path, "link");
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new RefusedFileError(path, "special");
    if (info.size > maxBytes) throw new RefusedFileError(path, "large");
    // One byte more than fstat promised shows a file that grew since; the read itself
    // stays bounded by maxBytes whatever a writer appends meanwhile.
    let buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) throw new RefusedFileError(path, "large");
        const larger = Buffer.alloc(maxBytes + 1);
        buffer.copy(larger);
        buffer = larger;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { text: buffer.toString("utf8", 0, length), ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

/**
 * Removes `path` if it is still the file we read (same inode). A writer may have
 * renamed a fresh entry over it since; removing that would only cost a miss, but there
 * is no reason to.
 */
export async function unlinkIfSame(path: string, ino: number): Promise<void> {
  try {
    if ((await lstat(path)).ino === ino) await unlink(path);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}

/** Unlinks `path`; a missing file is not an error. */
export async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}

/**
 * Writes `text` to `path` so that readers see the old content or the new one, never a
 * mix: a private temporary file in the same directory (same file system, so the rename
 * is atomic), flushed to disk before it takes the entry's name.
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomSuffix()}.tmp`;
  try {
    const handle = await open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameWithRetry(temporary, path);
  } catch (error) {
    await unlinkQuietly(temporary).catch(() => undefined);
    throw error;
  }
}

// Windows refuses to replace a file that another process has open for a moment; POSIX never does.
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = errorCode(error);
      if (attempt >= 5 || (code !== "EPERM" && code !== "EACCES" && code !== "EBUSY")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
}

/**
 * Removes temporary files and lock-break claims older than `olderThanMs`: left behind
 * by a process killed between creating and removing them.
 */
export async function sweepStrays(directory: string, olderThanMs: number): Promise<void> {
  const names = await readdir(directory);
  const cutoff = Date.now() - olderThanMs;
  await Promise.all(
    names
      .filter((name) => name.endsWith(".tmp") || name.endsWith(".break"))
      .map(async (name) => {
        const path = join(directory, name);
        try {
          if ((await lstat(path)).mtimeMs < cutoff) await unlink(path);
        } catch {
          // Gone already, or not ours to remove: either way nothing to do.
        }
      }),
  );
}

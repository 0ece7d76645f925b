import { randomBytes } from "node:crypto";
import { open, readdir, rename, stat, unlink } from "node:fs/promises";
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

/** Reads `path`; `undefined` when it does not exist. */
export async function readSnapshot(path: string): Promise<FileSnapshot | undefined> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    const text = await handle.readFile("utf8");
    return { text, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
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
    if ((await stat(path)).ino === ino) await unlink(path);
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
          if ((await stat(path)).mtimeMs < cutoff) await unlink(path);
        } catch {
          // Gone already, or not ours to remove: either way nothing to do.
        }
      }),
  );
}

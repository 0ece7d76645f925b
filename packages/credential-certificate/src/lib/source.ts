import { readFile, stat } from "node:fs/promises";
import { CredentialError, type Logger } from "@daemon-auth/core";
import type { CertificateMaterial } from "./material.js";

/** Where the credential's certificate comes from. */
export interface MaterialSource {
  /** The material loaded so far, if any. */
  readonly current: CertificateMaterial | undefined;
  /** The material to sign with at `now`: loads it first, or re-checks the files when a check is due. */
  get(now: number): Promise<CertificateMaterial>;
  /** Re-reads the source now. Throws only when no good material exists afterwards. */
  reload(now: number): Promise<void>;
}

/** Material given inline (or a signer's certificate): nothing to re-read. */
export function staticSource(material: CertificateMaterial): MaterialSource {
  return { current: material, get: async () => material, reload: async () => {} };
}

/** One file the certificate is read from, and the option that named it (for messages). */
export interface SourceFile {
  readonly path: string;
  readonly option: string;
}

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  readonly files: readonly SourceFile[];
  /** Parses the files' contents, in `files` order. */
  readonly parse: (contents: readonly Buffer[]) => CertificateMaterial;
  /** At most one `stat` per file per interval; `Infinity` re-reads only on `reload`. */
  readonly checkIntervalMs: number;
  /** Called after material was (re)loaded. */
  readonly onLoad: (material: CertificateMaterial) => void;
  readonly logger: Logger | undefined;
}

/**
 * Material read from files, re-read when a file's identity, size or times change (a
 * cheap `stat`, at most once per interval, on use: no watcher keeps the process alive).
 * A re-read that fails, such as a half-written file during a rotation, keeps the previous
 * good material and is retried at the next check.
 */
export function fileSource(options: FileSourceOptions): MaterialSource {
  let loaded: { material: CertificateMaterial; stamp: string } | undefined;
  let lastCheck = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  const single = (task: () => Promise<void>): Promise<void> =>
    (inflight ??= task().finally(() => {
      inflight = undefined;
    }));

  const load = async (now: number): Promise<void> => {
    lastCheck = now;
    try {
      // Stamp before reading: a write racing the read changes the stamp, so the next check re-reads.
      const stamp = await stampOf(options.files);
      const contents = await Promise.all(options.files.map(readSourceFile));
      loaded = { material: options.parse(contents), stamp };
    } catch (error) {
      if (!loaded) throw error;
      options.logger?.warn?.("Reloading the certificate failed; still using the previous certificate.", {
        certificate: loaded.material.origin,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    options.onLoad(loaded.material);
  };

  const check = async (now: number): Promise<void> => {
    lastCheck = now;
    let stamp: string;
    try {
      stamp = await stampOf(options.files);
    } catch (error) {
      // Mid-rotation the file may be briefly missing: keep signing with what we have.
      options.logger?.warn?.("Checking the certificate file failed; still using the previous certificate.", {
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    if (stamp !== loaded?.stamp) await load(now);
  };

  return {
    get current() {
      return loaded?.material;
    },
    async get(now) {
      if (!loaded) await single(() => load(now));
      else if (now - lastCheck >= options.checkIntervalMs) await single(() => check(now));
      return loaded!.material;
    },
    async reload(now) {
      // Let a running load finish (it may be the first), then read again regardless of stamps.
      await inflight?.catch(() => undefined);
      await single(() => load(now));
    },
  };
}

async function stampOf(files: readonly SourceFile[]): Promise<string> {
  const stats = await Promise.all(
    files.map(async (file) => {
      try {
        return await stat(file.path);
      } catch (error) {
        throw fileError(file, error);
      }
    }),
  );
  return stats.map((s) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`).join("|");
}

async function readSourceFile(file: SourceFile): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(file.path);
  } catch (error) {
    throw fileError(file, error);
  }
  if (data.byteLength === 0) {
    throw new CredentialError(
      `The certificate file "${file.path}" (\`${file.option}\`) is empty: write the certificate into it (atomically, with a rename, so readers never see a partial file).`,
    );
  }
  return data;
}

function fileError(file: SourceFile, error: unknown): CredentialError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `The certificate file "${file.path}" (\`${file.option}\`)`;
  const message =
    code === "ENOENT"
      ? `${where} does not exist: check the path (relative paths resolve from ${process.cwd()}).`
      : code === "EACCES" || code === "EPERM"
        ? `${where} is not readable by this process: give the service's user read access (for example chown it to that user and chmod 600).`
        : code === "EISDIR"
          ? `${where} is a directory: point \`${file.option}\` at the certificate file inside it.`
          : `${where} could not be read${code ? ` (${code})` : ""}: check that the path names a readable file.`;
  return new CredentialError(message, { cause: error });
}

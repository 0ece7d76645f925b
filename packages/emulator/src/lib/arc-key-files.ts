// Azure Arc's proof of local access: the agent answers a token request with a 401
// naming a fresh key file that only a privileged local user can read (0600 here, in
// the directory the emulator was given), and accepts the request again with
// `Authorization: Basic <file content>`.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { recordSecret } from "./secret-ledger.js";

const digest = (key: string): string => createHash("sha256").update(key).digest("hex");

/** The key files the emulator wrote, and the keys it accepts. */
export class ArcKeyFiles {
  /** SHA-256 of each issued key: a lookup that never compares the key itself. */
  readonly #issued = new Set<string>();
  readonly #paths: string[] = [];

  /** @param directory where key files are written (created 0700 when missing). */
  constructor(readonly directory: string) {}

  /** Writes a new key file (0600) and returns its path, for `WWW-Authenticate: Basic realm=<path>`. */
  async challenge(): Promise<string> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const key = randomBytes(32).toString("hex");
    const path = join(this.directory, `${randomUUID()}.key`);
    recordSecret("arc key", key);
    await writeFile(path, key, { mode: 0o600, flag: "wx" });
    this.#issued.add(digest(key));
    this.#paths.push(path);
    return path;
  }

  /** Whether an `Authorization` header presents a key this emulator issued. */
  accepts(authorization: string | undefined): boolean {
    const match = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? "");
    return match !== null && this.#issued.has(digest(match[1]!));
  }

  /** Deletes the key files written so far (when the emulator closes). */
  async removeAll(): Promise<void> {
    await Promise.all(this.#paths.splice(0).map((path) => rm(path, { force: true })));
  }
}

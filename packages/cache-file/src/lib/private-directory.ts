// The cache's directory: created private (0700), and refused when other users could
// plant or replace tokens in it. POSIX checks only; Windows protects files through ACLs.
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { OptionChecks } from "@daemon-auth/core/adapter";
import { errorCode } from "./fs.js";

/** Creates the directory (0700) and refuses one that other users could tamper with. */
export function preparePrivateDirectory(options: { readonly directory?: unknown }, check: OptionChecks): string {
  if (typeof options !== "object" || options === null || typeof options.directory !== "string" || options.directory === "") {
    throw check.error(`needs a 'directory', for example { directory: "/var/lib/my-daemon/token-cache" }.`);
  }
  const directory = resolve(options.directory);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw check.error(
      `Could not create the token cache directory ${directory} (${errorCode(error) ?? String(error)}). ` +
        "Create it with `mkdir -m 700` or choose a directory this user can write to.",
      { cause: error },
    );
  }
  const info = statSync(directory);
  if (!info.isDirectory()) {
    throw check.error(`${directory} is not a directory; choose a directory for the token cache.`);
  }
  // POSIX only: Windows has no mode bits or uids here, and protects files through ACLs.
  const uid = process.getuid?.();
  if (process.platform !== "win32" && uid !== undefined) {
    if (info.uid !== uid) {
      throw check.error(
        `The token cache directory ${directory} is owned by uid ${info.uid}, not by this user (uid ${uid}). ` +
          "Use a directory this user owns, or fix it with `chown`.",
      );
    }
    if ((info.mode & 0o022) !== 0) {
      throw check.error(
        `The token cache directory ${directory} is writable by other users (mode ${(info.mode & 0o777).toString(8)}), ` +
          `so they could plant or replace tokens. Run \`chmod 700 ${directory}\` or choose a private directory.`,
      );
    }
  }
  try {
    accessSync(directory, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw check.error(
      `This user cannot read and write the token cache directory ${directory}. Run \`chmod 700 ${directory}\`.`,
      { cause: error },
    );
  }
  return directory;
}

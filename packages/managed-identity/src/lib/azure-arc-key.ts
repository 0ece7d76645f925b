import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, resolve, win32 } from "node:path";
import { CredentialError } from "@daemon-auth/core";

/** The largest key file read, as msal-node's limit: the agent writes a short random key. */
const MAX_KEY_BYTES = 4096;

/**
 * The directory the Azure Arc agent writes its challenge keys to. Only a file directly
 * inside it is read: the challenge comes over plain HTTP from whatever listens on the
 * endpoint, so its path is not trusted.
 */
export function arcKeyDirectory(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (platform === "linux") return "/var/opt/azcmagent/tokens";
  if (platform === "win32" && env["ProgramData"]) return win32.join(env["ProgramData"], "AzureConnectedMachineAgent", "Tokens");
  return undefined;
}

/**
 * The key file a 401 challenge (`WWW-Authenticate: Basic realm=<path>`) names, read
 * under the rules msal-node applies: inside `directory`, a `.key` file of at most 4096
 * bytes. Also refused: a symbolic link, anything but a regular file.
 *
 * @throws {CredentialError} naming the rule broken and the fix; never the key.
 */
export async function readArcKey(challenge: string | null, directory: string | undefined, platform: NodeJS.Platform): Promise<string> {
  const realm = /^\s*basic\s+realm\s*=\s*"?([^"]+?)"?\s*$/i.exec(challenge ?? "")?.[1];
  if (realm === undefined) {
    throw new CredentialError(
      "Managed identity (azure-arc): the endpoint answered 401 without a 'WWW-Authenticate: Basic realm=<key file>' challenge; is IDENTITY_ENDPOINT the Azure Arc agent (himds)?",
    );
  }
  if (directory === undefined) {
    throw new CredentialError("Managed identity (azure-arc): Azure Arc is supported on Linux and Windows only.");
  }
  const path = platform === "win32" ? win32 : { resolve, dirname, basename };
  const file = path.resolve(realm);
  const sameDirectory =
    platform === "win32"
      ? path.dirname(file).toLowerCase() === path.resolve(directory).toLowerCase()
      : path.dirname(file) === path.resolve(directory);
  if (!sameDirectory || !path.basename(file).endsWith(".key")) {
    throw new CredentialError(
      `Managed identity (azure-arc): the challenge named a file that is not a '.key' file in the agent's token directory (${directory}); it was not read. ` +
        "Check that IDENTITY_ENDPOINT is the local Azure Arc agent.",
    );
  }
  let handle;
  try {
    // No following links: a link inside the directory could point anywhere.
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (cause) {
    throw new CredentialError(
      `Managed identity (azure-arc): the challenge's key file could not be read (${codeOf(cause)}); the process needs read access to ${directory} (on Linux, membership of the 'himds' group).`,
      { cause: codeOf(cause) },
    );
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > MAX_KEY_BYTES) {
      throw new CredentialError(`Managed identity (azure-arc): the challenge's key file is not a regular file of at most ${MAX_KEY_BYTES} bytes; it was not read.`);
    }
    const key = (await handle.readFile({ encoding: "utf8" })).trim();
    if (key.length === 0 || key.length > MAX_KEY_BYTES || /[\r\n]/.test(key)) {
      throw new CredentialError("Managed identity (azure-arc): the challenge's key file is empty or not a single-line key.");
    }
    return key;
  } finally {
    await handle.close();
  }
}

/** A file system error's code only: its message quotes the path, and nothing of the file. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown error";
}

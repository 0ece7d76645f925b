import { readFileSync } from "node:fs";
import { UsageError } from "./lib/args.js";
import type { CommandRun } from "./lib/command.js";
import { processIo, type CliIo } from "./lib/io.js";
import { oneLine } from "./lib/messages.js";

/** The commands; each is loaded on use, so `decode` never loads the emulator or undici. */
const COMMANDS: readonly { name: string; summary: string; load: () => Promise<CommandRun> }[] = [
  { name: "token", summary: "acquire an app-only access token and print it", load: async () => (await import("./commands/token.js")).token },
  { name: "decode", summary: "show a token's header and claims (the signature is not verified)", load: async () => (await import("./commands/decode.js")).decode },
  { name: "consent-url", summary: "print the admin consent URL that onboards a tenant", load: async () => (await import("./commands/consent-url.js")).consentUrl },
  { name: "doctor", summary: "check a configuration step by step, with the fix for each failure", load: async () => (await import("./commands/doctor.js")).doctor },
  { name: "emulator", summary: "run the local identity platform emulator (offline Entra ID)", load: async () => (await import("./commands/emulator.js")).emulator },
  { name: "serve", summary: "run a token sidecar for every process on the host (App Service MI protocol)", load: async () => (await import("./commands/serve.js")).serve },
];

const USAGE = `Usage: daemon-auth <command> [options]

App-only access tokens (OAuth 2.0 client credentials grant) from the shell, for
Entra ID and the local emulator.

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`).join("\n")}

Options:
  -h, --help     show this help; \`daemon-auth <command> --help\` for a command's
  -V, --version  print the version

Configuration comes from flags or from the variables @azure/identity reads:
AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_CLIENT_SEND_CERTIFICATE_CHAIN,
AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST.

Exit codes: 0 success, 1 failure, 2 usage error.
`;

/**
 * Runs `daemon-auth` with `argv` (the arguments after the program name) and resolves
 * the exit code: 0 success, 1 failure, 2 usage error. Errors are printed to stderr as
 * one line that says what to do; results go to stdout.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  let prefix = "daemon-auth";
  try {
    if (name === "-h" || name === "--help") {
      io.out(USAGE);
      return 0;
    }
    if (name === "-V" || name === "--version") {
      io.out(`${version()}\n`);
      return 0;
    }
    if (name === undefined) throw new UsageError("missing <command>: token, decode, consent-url, doctor, emulator or serve");
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (command === undefined) {
      throw new UsageError(name.startsWith("-") ? `unknown option '${name}' before the command` : `unknown command '${name}'`);
    }
    prefix = `daemon-auth ${command.name}`;
    const run = await command.load();
    return await run(rest, io);
  } catch (error) {
    const message = oneLine(error);
    if (error instanceof UsageError) {
      io.err(`${prefix}: ${message}\n  see \`${prefix} --help\`\n`);
      return 2;
    }
    io.err(`${prefix}: ${message}\n`);
    return 1;
  }
}

/** This package's version (the file sits one level below package.json in src/ and dist/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

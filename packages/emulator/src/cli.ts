// daemon-auth-emulator: runs the emulator until Ctrl-C / SIGTERM.
import { readFileSync } from "node:fs";
import { EmulatorUsageError, runEmulatorCli } from "./emulator-cli.js";

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "";
  } catch {
    return "";
  }
}

runEmulatorCli(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof EmulatorUsageError) {
    process.stderr.write(`daemon-auth-emulator: ${error.message} (see --help)\n`);
    process.exit(2);
  }
  process.stderr.write(`daemon-auth-emulator ${version()}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

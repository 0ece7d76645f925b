// The entry point of the daemon-auth-emulator bin: runs the command line and turns
// its errors into exit codes (2 for usage, 1 for everything else).
import { readFileSync } from "node:fs";
import { EmulatorUsageError, runEmulatorCli } from "./run-emulator-cli.js";

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

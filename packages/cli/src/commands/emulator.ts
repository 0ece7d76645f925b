import { EmulatorUsageError, runEmulatorCli } from "@daemon-auth/emulator";
import { UsageError } from "../lib/args.js";
import type { CommandRun } from "../lib/command.js";

/** `daemon-auth emulator`: the emulator's own command line (`daemon-auth-emulator`), under this name. */
export const emulator: CommandRun = async (argv) => {
  try {
    // Resolves once the emulator listens; it then runs until SIGINT or SIGTERM.
    await runEmulatorCli(argv, { command: "daemon-auth emulator" });
    return 0;
  } catch (error) {
    throw error instanceof EmulatorUsageError ? new UsageError(error.message) : error;
  }
};

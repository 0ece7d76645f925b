import type { CliIo } from "./io.js";

/** Runs one `daemon-auth <command>` with the arguments after its name; resolves the exit code. */
export type CommandRun = (argv: readonly string[], io: CliIo) => Promise<number>;

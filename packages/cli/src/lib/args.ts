import { parseArgs, type ParseArgsConfig } from "node:util";
import type { CliIo } from "./io.js";

/** A command-line mistake (unknown command or flag, missing or conflicting flags): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** How a command's arguments are read. */
export interface CommandSpec<O extends Options> {
  /** The full `--help` text. */
  readonly usage: string;
  readonly options: O;
  /** Positional arguments allowed, by name, for the message when there are too many. @default none */
  readonly positionals?: readonly string[];
}

const HELP = { help: { type: "boolean", short: "h" } } as const;

/**
 * Parses a command's arguments strictly (unknown flags and missing values are usage
 * errors). Prints the usage and returns `undefined` for `--help`.
 */
export function parseCommand<O extends Options>(
  argv: readonly string[],
  spec: CommandSpec<O>,
  io: CliIo,
): ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP; strict: true; allowPositionals: true }>> | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...spec.options, ...HELP }, strict: true, allowPositionals: true });
  } catch (error) {
    // node:util's messages can span lines and suggest `--` for values that look like flags.
    throw new UsageError((error as Error).message.split(/\n|\. To specify a positional/)[0] ?? "invalid arguments");
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    io.out(spec.usage);
    return undefined;
  }
  const allowed = spec.positionals ?? [];
  if (parsed.positionals.length > allowed.length) {
    // The stray value is not echoed: it may be a secret whose flag was forgotten.
    throw new UsageError(
      allowed.length === 0
        ? "unexpected argument: this command takes only flags (is a flag name missing before a value?)"
        : `unexpected argument after <${allowed.join("> <")}> (is a flag name missing before a value?)`,
    );
  }
  return parsed;
}

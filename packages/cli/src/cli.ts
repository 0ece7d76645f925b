// The `daemon-auth` bin: everything lives in runCli, so this file stays a one-liner.
import { runCli } from "./run.js";

process.exitCode = await runCli(process.argv.slice(2));

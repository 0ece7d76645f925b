// `pnpm start`: the daemon with this process's environment, until SIGINT/SIGTERM (or DAEMON_RUNS calls).
import { main } from "./daemon.js";

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
process.exitCode = await main(process.env, console, stop.signal);

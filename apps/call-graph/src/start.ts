// `pnpm start`: the daemon with the configuration of this process's environment.
import { main } from "./daemon.js";

process.exitCode = await main();

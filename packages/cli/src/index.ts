export { runCli } from "./run.js";
export type { CliIo } from "./lib/io.js";

import { measureAgainstEmulator } from "./emulator-throughput.js";

const [authority, duration] = process.argv.slice(2);
if (authority === undefined) throw new Error("Usage: emulator-child.js <authority> [durationMs]");
const rates = await measureAgainstEmulator(authority, Number(duration ?? 3000));
process.stdout.write(JSON.stringify(rates));

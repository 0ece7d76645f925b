import { measureAgainstEmulator } from "./emulator-throughput.js";

const [authority, caPath, duration, slices] = process.argv.slice(2);
if (authority === undefined || caPath === undefined) throw new Error("Usage: emulator-child.js <authority> <ca file> [durationMs] [slices]");
const rates = await measureAgainstEmulator(authority, caPath, Number(duration ?? 3000), Number(slices ?? 3));
process.stdout.write(JSON.stringify(rates));

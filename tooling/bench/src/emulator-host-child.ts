// The HTTPS emulator of scenario 4 in a fresh process of its own: what earlier scenarios left
// in the bench's heap (100,000 cached tokens, then their garbage) must not pause the server in
// one library's slice and not another's. Prints `{ authority, caPath }` on one line; SIGTERM stops it.
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";

const emulator = await startEmulator({ https: true, config: demoEmulatorConfig() });
process.stdout.write(`${JSON.stringify({ authority: emulator.authority(demoEmulatorIdentities.tenantId), caPath: emulator.caCertificatePath })}\n`);
process.once("SIGTERM", () => {
  void emulator.close().then(() => process.exit(0));
});

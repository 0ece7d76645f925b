/**
 * `pnpm demo`: the daemon offline, its certificate rotated while it runs. The emulator
 * serves Entra ID, Key Vault and a Graph-shaped API over HTTPS on a free port; the
 * daemon (`dist/start.js`, the same entry point as `pnpm start`) runs with the variables
 * a user sets for Azure, pointed at the emulator.
 */
import { fileURLToPath } from "node:url";
import { DEMO_RUNS, ROTATE_AFTER_RUN, runRotationDemo } from "./rotation-demo.js";

let exitCode = 1;
try {
  console.log("keyvault-daemon demo: offline; the daemon's certificate lives in the emulator's Key Vault");
  console.log(`   tokens live 3 s here, so each of the ${DEMO_RUNS} calls needs a new one; the certificate is rotated after call ${ROTATE_AFTER_RUN}\n`);
  const result = await runRotationDemo({ script: fileURLToPath(new URL("./start.js", import.meta.url)) });
  const statuses = result.daemonTokenRequests.map(({ status, errorCode }) => (errorCode === undefined ? String(status) : `${status} AADSTS${errorCode}`));
  console.log(`\ndaemon token requests: ${statuses.join(", ")}; vault reader token requests: ${result.vaultReaderTokenRequests}`);
  console.log(`   before the rotation: ${result.before.subject}, thumbprint ${result.before.thumbprintSha1} (vault version ${result.before.vaultVersion})`);
  console.log(`   after the rotation:  ${result.after.subject}, thumbprint ${result.after.thumbprintSha1} (vault version ${result.after.vaultVersion})`);
  const rejected = result.daemonTokenRequests.filter(({ status }) => status !== 200);
  if (result.exitCode === 0 && rejected.length === 1 && rejected[0]?.errorCode === 700027) {
    console.log("\nDone: the old certificate was refused once (AADSTS700027), the daemon reloaded it from Key Vault and every call succeeded.");
    exitCode = 0;
  } else {
    console.error("\nThe demo did not go as expected; see the lines above.");
  }
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
}
process.exitCode = exitCode;

/**
 * `pnpm demo`: the secretless daemon offline. The emulator serves Entra ID, a VM's IMDS
 * and Key Vault over HTTPS on a free port, the customer's orders API runs beside it, and
 * the daemon (`dist/start.js`, what `pnpm start` runs) runs twice as a child process —
 * the VM — with the variables a user sets on Azure, pointed at the emulator.
 */
import { fileURLToPath } from "node:url";
import type { DaemonRunResult } from "./story.js";
import { KEY_VAULT_RUNS, ROTATE_AFTER_RUN, runSecretlessStory } from "./story.js";

function summary(run: DaemonRunResult): string {
  const tokens = run.appTokenRequests.map(({ status, errorCode }) => (errorCode === undefined ? String(status) : `${status} AADSTS${errorCode}`));
  return `app token requests: ${tokens.join(", ") || "none"}; IMDS requests: ${run.imdsRequests}; Key Vault signatures: ${run.vaultSignatures}`;
}

let exitCode = 1;
try {
  console.log("secretless-daemon demo: offline; no secret and no certificate file anywhere");
  console.log(`   tokens live 3 s here; in (b) the certificate is rotated after call ${ROTATE_AFTER_RUN} of ${KEY_VAULT_RUNS}\n`);
  const { federated, keyVault } = await runSecretlessStory({ script: fileURLToPath(new URL("./start.js", import.meta.url)) });
  console.log(`   (a) ${summary(federated)}`);
  console.log(`   (b) ${summary(keyVault)}; certificate versions ${keyVault.versions[0]} → ${keyVault.versions[1] ?? "(not rotated)"}`);
  const federatedOk = federated.exitCode === 0 && federated.appTokenRequests.every(({ status, clientAuth }) => status === 200 && clientAuth === "assertion");
  const refused = keyVault.appTokenRequests.filter(({ status }) => status !== 200);
  const keyVaultOk = keyVault.exitCode === 0 && keyVault.versions[1] !== undefined && refused.length === 1 && refused[0]?.errorCode === 700027;
  exitCode = federatedOk && keyVaultOk ? 0 : 1;
  const conclusion =
    exitCode === 0
      ? "Done: (a) the managed identity's token was the app's credential in the customer's tenant; (b) Key Vault signed every assertion, and after the rotation the old certificate was refused once (AADSTS700027), the daemon moved to the new version and every call succeeded."
      : "The demo did not go as expected; see the lines above.";
  (exitCode === 0 ? console.log : console.error)(`\n${conclusion}`);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
}
process.exitCode = exitCode;

/**
 * The daemon: no secret, no certificate file. It runs on an Azure resource with a managed
 * identity (a VM, App Service, Container Apps, an Arc machine…), and its app registration
 * proves itself in one of two ways:
 *
 * - the managed identity is the app's federated credential (`managedIdentityAssertion`):
 *   the identity's token for api://AzureADTokenExchange is the client assertion, so the
 *   multi-tenant app gets app tokens in every tenant that consented to it;
 * - or, with KEY_VAULT_URL and KEY_VAULT_CERTIFICATE_NAME, a certificate whose private key
 *   never leaves Key Vault (`keyVaultCertificateSigner`): Key Vault signs each assertion,
 *   and the vault is reached with the managed identity.
 *
 * It calls `GET {API_URL}/orders` every DAEMON_INTERVAL_MS and prints a line per call.
 * See settings.ts and the README for the variables.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { toTokenCredential } from "@daemon-auth/azure";
import { createDaemonClient, DaemonAuthError, type ClientCredential, type DaemonClient, type LogFields, type Logger, type TokenSource } from "@daemon-auth/core";
import { keyVaultCertificateSigner } from "@daemon-auth/credential-keyvault";
import { createManagedIdentityClient, managedIdentityAssertion, type ManagedIdentityClient } from "@daemon-auth/managed-identity";
import { callOrdersApi } from "@daemon-auth/sample-call-own-api";
import { isLoopback, settingsFrom, type Environment, type Settings } from "./settings.js";

/** Where {@link main} writes: `console` by default. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** Exit codes of {@link main}. */
export const ExitCode = { success: 0, failure: 1, configuration: 2 } as const;

/**
 * Runs the daemon with the configuration in `env` (the managed identity's source is
 * detected from it too) until `DAEMON_RUNS` calls were made or `signal` fires. Never
 * prints a token, an assertion or an identity header.
 *
 * @returns 0 when every call succeeded, 1 when one failed, 2 when the configuration is invalid.
 */
export async function main(env: Environment = process.env, output: Output = console, signal?: AbortSignal): Promise<number> {
  let settings: Settings;
  let identity: ManagedIdentityClient;
  let credential: ClientCredential;
  let daemon: DaemonClient;
  let lastSource: TokenSource | undefined;
  try {
    settings = settingsFrom(env);
    identity = createManagedIdentityClient({ env, ...(settings.identityClientId === undefined ? {} : { clientId: settings.identityClientId }) });
    credential = appCredential(settings, identity);
    daemon = createDaemonClient({
      tenantId: settings.tenantId,
      clientId: settings.appClientId,
      credential,
      ...(settings.authorityHost === undefined ? {} : { authorityHost: settings.authorityHost }),
      logger: printing(output),
      telemetry: { onAcquire: ({ source }) => (lastSource = source) },
    });
  } catch (error) {
    output.error(`secretless-daemon: ${error instanceof Error ? error.message : String(error)} Or run 'pnpm demo' to try it offline.`);
    return ExitCode.configuration;
  }

  const who = settings.identityClientId === undefined ? "system-assigned" : `user-assigned ${settings.identityClientId}`;
  output.log(`secretless-daemon: app ${settings.appClientId} in tenant ${settings.tenantId}, on a host whose managed identity (${who}) answers through ${identity.source}`);
  output.log(
    settings.credential.kind === "managed-identity"
      ? `   the app proves itself with the managed identity's token (federated credential): ${credential.description ?? ""}`
      : `   the app proves itself with a certificate whose key stays in Key Vault ${settings.credential.vaultUrl}, reached with the managed identity`,
  );
  output.log(`   GET ${settings.apiUrl}/orders every ${settings.intervalMs / 1000} s, ${settings.runs === 0 ? "until stopped" : `${settings.runs} times`}`);

  let failures = 0;
  let signingWith: string | undefined;
  try {
    for (let run = 1; settings.runs === 0 || run <= settings.runs; run++) {
      // The wait ends early, and the loop with it, when the signal fires.
      const waited = run === 1 || (await sleep(settings.intervalMs, true, { ...(signal && { signal }) }).catch(() => false));
      if (!waited || signal?.aborted) break;
      try {
        const { status, body } = await callOrdersApi(daemon, settings.apiUrl, settings.apiScope);
        if (settings.credential.kind === "key-vault-certificate" && credential.description !== signingWith) {
          signingWith = credential.description;
          output.log(`   signing with the ${signingWith ?? "certificate"}`);
        }
        const orders = Array.isArray((body as { value?: unknown } | undefined)?.value) ? `, ${(body as { value: unknown[] }).value.length} orders` : "";
        output.log(`run ${run}: ${status} ${status === 200 ? "OK" : "failed"}${orders} (token from ${lastSource ?? "?"})`);
        if (status !== 200) failures++;
      } catch (error) {
        failures++;
        output.error(`run ${run}: ${error instanceof DaemonAuthError ? `${error.name}: ` : ""}${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures === 0 ? ExitCode.success : ExitCode.failure;
  } finally {
    await daemon.dispose(); // and the app credential with it
    await identity.dispose();
  }
}

/** The app's credential: the managed identity itself, or Key Vault signing with the managed identity's access. */
function appCredential(settings: Settings, identity: ManagedIdentityClient): ClientCredential {
  if (settings.credential.kind === "managed-identity") return managedIdentityAssertion({ client: identity });
  const { vaultUrl, certificateName } = settings.credential;
  return keyVaultCertificateSigner({
    vaultUrl,
    certificateName,
    // Key Vault's challenge names a tenant; the bridge does not forward it to a managed
    // identity (which has one tenant, its own), as ManagedIdentityCredential ignores it.
    credential: toTokenCredential(identity),
    // The emulator's vault is not under vault.azure.net, which the SDK checks the challenge against.
    ...(isLoopback(new URL(vaultUrl)) ? { clientOptions: { disableChallengeResourceVerification: true } } : {}),
  });
}

/** Core's notices (a rejected certificate reloaded, the new one accepted) as indented lines, with the AADSTS code. */
const printing = (output: Output): Logger => {
  const notice = (message: string, fields?: LogFields): void => output.log(`   ${message}${fields?.["errorCodes"] === undefined ? "" : ` (AADSTS${String(fields["errorCodes"])})`}`);
  return { info: notice, warn: notice, error: notice };
};

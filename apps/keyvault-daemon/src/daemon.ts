/**
 * The daemon: its certificate lives in Azure Key Vault. A bootstrap identity (a managed
 * or workload identity in Azure; any `AZURE_*` configuration here) reads the certificate
 * from the vault, and the daemon's app registration signs its client assertions with it,
 * following rotations while it runs. Configuration, from the environment:
 *
 *   bootstrap identity (reads the vault), as `@azure/identity`'s EnvironmentCredential reads it:
 *     AZURE_TENANT_ID, AZURE_CLIENT_ID, and AZURE_CLIENT_SECRET | AZURE_CLIENT_CERTIFICATE_PATH | AZURE_FEDERATED_TOKEN_FILE,
 *     [AZURE_AUTHORITY_HOST]
 *   the daemon: DAEMON_CLIENT_ID, KEY_VAULT_URL, KEY_VAULT_CERTIFICATE_NAME, API_SCOPE, API_URL,
 *     [DAEMON_INTERVAL_MS] (60000), [DAEMON_RUNS] (0: until SIGINT/SIGTERM)
 *
 * `pnpm demo` runs this very daemon against the local emulator and rotates the
 * certificate under it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { toTokenCredential } from "@daemon-auth/azure";
import { ConfigurationError, createDaemonClient, DaemonAuthError, type DaemonClient, type LogFields, type Logger, type TokenSource } from "@daemon-auth/core";
import { keyVaultCertificateCredential } from "@daemon-auth/credential-keyvault";
import { configurationFromEnvironment, type EnvironmentConfiguration } from "@daemon-auth/environment";
import { ConsentRequiredError, createApiFetch } from "@daemon-auth/http-undici";

/** Where {@link main} writes: `console` by default. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** Exit codes of {@link main}. */
export const ExitCode = { success: 0, failure: 1, configuration: 2 } as const;

type Environment = Readonly<Record<string, string | undefined>>;

interface Settings {
  readonly bootstrap: EnvironmentConfiguration;
  readonly daemonClientId: string;
  readonly vaultUrl: string;
  readonly certificateName: string;
  readonly apiScope: string;
  readonly apiUrl: string;
  readonly intervalMs: number;
  /** 0: until stopped. */
  readonly runs: number;
}

/**
 * Calls `API_URL` every `DAEMON_INTERVAL_MS` as the daemon app, authenticating with the
 * certificate kept in Key Vault, and prints a line per call: the outcome and where the
 * token came from, and which certificate (Key Vault version) signs whenever it changes. When the app registration stops
 * accepting the certificate (rotation), the client reloads it from the vault and retries
 * once; core's log lines about it are printed too. Never prints a secret, key or token.
 *
 * @param signal - stops the loop (the start script aborts it on SIGINT and SIGTERM).
 * @returns the exit code: 0 when every call succeeded, 1 when one failed (a missing
 * admin consent stops the daemon with the admin consent URL), 2 when the configuration is invalid.
 */
export async function main(env: Environment = process.env, output: Output = console, signal?: AbortSignal): Promise<number> {
  let settings: Settings;
  let vaultReader: DaemonClient;
  let daemon: DaemonClient;
  let certificateDescription: () => string;
  let lastSource: TokenSource | undefined;
  try {
    settings = settingsFrom(env);
    const { bootstrap } = settings;
    // The bootstrap identity only reads the vault: the Azure SDK's SecretClient gets its tokens through this client.
    vaultReader = createDaemonClient(bootstrap.clientOptions);
    const certificate = keyVaultCertificateCredential({
      vaultUrl: settings.vaultUrl,
      credential: toTokenCredential(vaultReader),
      secretName: settings.certificateName,
      // The emulator's vault is not under vault.azure.net, which the SDK checks the challenge against.
      ...(isLoopback(new URL(settings.vaultUrl)) ? { secretClientOptions: { disableChallengeResourceVerification: true } } : {}),
    });
    certificateDescription = () => certificate.description ?? "certificate (Key Vault)";
    daemon = createDaemonClient({
      tenantId: bootstrap.clientOptions.tenantId,
      ...(bootstrap.clientOptions.authorityHost === undefined ? {} : { authorityHost: bootstrap.clientOptions.authorityHost }),
      clientId: settings.daemonClientId,
      credential: certificate,
      logger: printingLogger(output),
      telemetry: { onAcquire: ({ source }) => (lastSource = source) },
    });
  } catch (error) {
    output.error(`keyvault-daemon: ${error instanceof Error ? error.message : String(error)} Or run 'pnpm demo' to try it offline.`);
    return ExitCode.configuration;
  }

  output.log(`keyvault-daemon: vault reader ${settings.bootstrap.describe()}`);
  output.log(`   daemon app ${settings.daemonClientId}, certificate "${settings.certificateName}" in Key Vault ${settings.vaultUrl}`);
  output.log(`   GET ${settings.apiUrl} every ${settings.intervalMs / 1000} s, ${settings.runs === 0 ? "until stopped" : `${settings.runs} times`}`);

  const api = createApiFetch({
    client: daemon,
    scopes: [settings.apiScope],
    origins: [new URL(settings.apiUrl).origin],
    ...(settings.bootstrap.clientOptions.authorityHost === undefined ? {} : { consent: { authorityHost: settings.bootstrap.clientOptions.authorityHost } }),
  });

  let failures = 0;
  let signingWith: string | undefined;
  try {
    for (let run = 1; settings.runs === 0 || run <= settings.runs; run++) {
      if (run > 1 && !(await pause(settings.intervalMs, signal))) break;
      if (signal?.aborted) break;
      try {
        const response = await api(settings.apiUrl, signal === undefined ? {} : { signal });
        const body: unknown = await response.json().catch(() => undefined);
        const items = Array.isArray((body as { value?: unknown } | undefined)?.value) ? `, ${(body as { value: unknown[] }).value.length} items` : "";
        if (certificateDescription() !== signingWith) {
          signingWith = certificateDescription();
          output.log(`   signing with the ${signingWith}`);
        }
        output.log(`run ${run}: ${response.status} ${response.ok ? "OK" : "failed"}${items} (token from ${lastSource ?? "?"})`);
        if (!response.ok) failures++;
      } catch (error) {
        if (signal?.aborted) break;
        failures++;
        if (error instanceof ConsentRequiredError) {
          output.error(
            `run ${run}: ${error.url} refused the app ${error.clientId} (${error.apiError}): grant it the application permission it needs on ` +
              `${error.scopes.join(" ")}, then ask an admin of tenant ${error.tenantId} to open:\n   ${error.adminConsentUrl}`,
          );
          break;
        }
        output.error(`run ${run}: ${error instanceof DaemonAuthError ? `${error.name}: ` : ""}${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures === 0 ? ExitCode.success : ExitCode.failure;
  } finally {
    await daemon.dispose();
    await vaultReader.dispose();
  }
}

/** Waits `ms`; false when `signal` fired first. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, undefined, signal === undefined ? {} : { signal });
    return true;
  } catch {
    return false;
  }
}

/** Core's warnings and notices (a rejected certificate, the reloaded one accepted), one line each. */
function printingLogger(output: Output): Logger {
  const print = (message: string, fields?: LogFields) => {
    const codes = fields?.["errorCodes"];
    output.log(`   ${message}${codes === undefined ? "" : ` (AADSTS${String(codes)})`}`);
  };
  return { info: print, warn: print, error: print };
}

function isLoopback(url: URL): boolean {
  return ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

function settingsFrom(env: Environment): Settings {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const problems: string[] = [];
  let bootstrap: EnvironmentConfiguration | undefined;
  let bootstrapProblem = "";
  try {
    bootstrap = configurationFromEnvironment(env);
  } catch (error) {
    // "Set A; B." from @daemon-auth/environment, said of the identity it configures here.
    bootstrapProblem = `For the identity that reads the vault, ${error instanceof ConfigurationError ? error.message.replace(/^Set /, "set ") : String(error)} `;
  }
  const required = {
    DAEMON_CLIENT_ID: "the application (client) id of the app whose certificate is in the vault",
    KEY_VAULT_URL: "the vault, such as https://my-vault.vault.azure.net",
    KEY_VAULT_CERTIFICATE_NAME: "the certificate's name in the vault",
    API_SCOPE: "the API's <resource>/.default scope",
    API_URL: "the URL to call",
  } as const;
  for (const [name, meaning] of Object.entries(required)) if (read(name) === undefined) problems.push(`${name} (${meaning})`);
  const vaultUrl = read("KEY_VAULT_URL");
  if (vaultUrl !== undefined && !isHttpUrl(vaultUrl, false)) problems.push(`KEY_VAULT_URL as the vault's https URL, such as https://my-vault.vault.azure.net; it is "${vaultUrl}"`);
  const apiScope = read("API_SCOPE");
  if (apiScope !== undefined && !apiScope.endsWith("/.default")) problems.push(`API_SCOPE as the API's <resource>/.default, such as api://orders/.default; it is "${apiScope}"`);
  const apiUrl = read("API_URL");
  if (apiUrl !== undefined && !isHttpUrl(apiUrl, true)) problems.push(`API_URL as an absolute https URL (http only on loopback); it is "${apiUrl}"`);
  const intervalMs = Number(read("DAEMON_INTERVAL_MS") ?? 60_000);
  if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) problems.push(`DAEMON_INTERVAL_MS as milliseconds between calls, such as 60000`);
  const runs = Number(read("DAEMON_RUNS") ?? 0);
  if (!(Number.isInteger(runs) && runs >= 0)) problems.push(`DAEMON_RUNS as the number of calls to make, or 0 to run until stopped`);
  if (problems.length > 0 || bootstrap === undefined) {
    throw new ConfigurationError(`${bootstrapProblem}${problems.length > 0 ? `Set ${problems.join("; ")}.` : ""}`.trim());
  }
  return {
    bootstrap,
    daemonClientId: read("DAEMON_CLIENT_ID") as string,
    vaultUrl: vaultUrl as string,
    certificateName: read("KEY_VAULT_CERTIFICATE_NAME") as string,
    apiScope: apiScope as string,
    apiUrl: apiUrl as string,
    intervalMs,
    runs,
  };
}

/** An absolute https URL, or http on loopback when `loopbackHttp`. */
function isHttpUrl(text: string, loopbackHttp: boolean): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || (loopbackHttp && url.protocol === "http:" && isLoopback(url));
  } catch {
    return false;
  }
}

// The emulator's command line, shared by the daemon-auth-emulator bin and `daemon-auth emulator`.
import { parseArgs } from "node:util";
import { loadEmulatorConfig } from "./config/load.js";
import type { EmulatorConfig } from "./config/types.js";
import { demoEmulatorConfig } from "./demo-config.js";
import { startEmulator } from "./emulator.js";

const usage = (command: string): string => `Usage: ${command} [options]

A local Microsoft identity platform (Entra ID) for the client credentials grant.

Options:
  --port <n>               port to listen on (0 = a free port)       [default: 5599]
  --host <host>            interface to listen on                    [default: 127.0.0.1]
  --https                  serve HTTPS with a certificate from a local CA
  --certificate-dir <dir>  where the CA and server certificate are kept
                           [default: <os tmpdir>/daemon-auth-emulator]
  --config <file.json>     tenants, applications and grants          [default: built-in demo]
  --token-lifetime <s>     access token lifetime in seconds          [default: 3599]
  --refresh-in <s>         send refresh_in with this value
  --quiet                  do not log requests
  -h, --help               show this help
`;

/** A command-line mistake: print it on one line and exit with code 2. */
export class EmulatorUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmulatorUsageError";
  }
}

function positiveInteger(value: string | undefined, flag: string, allowZero = false): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || (!allowZero && number === 0)) {
    throw new EmulatorUsageError(`${flag} expects a whole number${allowZero ? "" : " above 0"}, got "${value}"`);
  }
  return number;
}

/** Options of {@link runEmulatorCli}. */
export interface EmulatorCliOptions {
  /**
   * How the command is invoked, for `--help` and messages.
   * @default "daemon-auth-emulator"
   */
  command?: string;
}

/**
 * The emulator's command line: parses `argv` (without `node` and the script), starts the
 * emulator and keeps it running until SIGINT or SIGTERM, then closes it and exits the
 * process (0, or 1 when closing fails). Prints `--help` and resolves without starting.
 * Shared by the `daemon-auth-emulator` bin and `daemon-auth emulator`.
 *
 * @throws {EmulatorUsageError} for an unknown flag or a bad value (exit code 2 by convention).
 * @throws {EmulatorConfigError} when the `--config` file is invalid.
 *
 * @example
 * await runEmulatorCli(["--port", "0", "--https"], { command: "daemon-auth emulator" });
 */
export async function runEmulatorCli(argv: readonly string[], options: EmulatorCliOptions = {}): Promise<void> {
  const command = options.command ?? "daemon-auth-emulator";
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        https: { type: "boolean" },
        "certificate-dir": { type: "string" },
        config: { type: "string" },
        "token-lifetime": { type: "string" },
        "refresh-in": { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new EmulatorUsageError((error as Error).message.split("\n")[0] ?? "invalid arguments");
  }
  if (values.help === true) {
    process.stdout.write(usage(command));
    return;
  }
  const port = positiveInteger(values.port, "--port", true) ?? 5599;
  if (port > 65535) throw new EmulatorUsageError(`--port expects 0 to 65535, got ${port}`);
  const tokenLifetimeSeconds = positiveInteger(values["token-lifetime"], "--token-lifetime");
  const refreshInSeconds = positiveInteger(values["refresh-in"], "--refresh-in");

  const config: EmulatorConfig = values.config === undefined ? demoEmulatorConfig() : await loadEmulatorConfig(values.config);
  const emulator = await startEmulator({
    port,
    host: values.host ?? "127.0.0.1",
    https: values.https === true,
    config,
    ...(values["certificate-dir"] === undefined ? {} : { certificateDir: values["certificate-dir"] }),
    ...(tokenLifetimeSeconds === undefined ? {} : { tokenLifetimeSeconds }),
    ...(refreshInSeconds === undefined ? {} : { refreshInSeconds }),
    ...(values.quiet === true ? {} : { log: (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`) }),
  });

  const lines = [`daemon-auth emulator listening on ${emulator.url}`];
  lines.push(values.config === undefined ? "directory: built-in demo (see the package README for its client secret)" : `directory: ${values.config}`);
  for (const tenant of config.tenants) {
    lines.push(`  tenant ${tenant.displayName ?? tenant.id}: ${tenant.id}${tenant.domains?.length ? ` (${tenant.domains.join(", ")})` : ""}`);
    lines.push(`    token endpoint: ${emulator.tokenEndpoint(tenant.domains?.[0] ?? tenant.id)}`);
  }
  for (const app of config.applications) {
    const credentials = [
      app.secrets?.length ? `${app.secrets.length} secret(s)` : "",
      app.certificates?.length ? `${app.certificates.length} certificate(s)` : "",
    ].filter(Boolean);
    const scopes = (app.identifierUris ?? []).map((uri) => `${uri}/.default`);
    lines.push(
      `  app ${app.displayName ?? app.clientId}: client id ${app.clientId}${credentials.length ? `, ${credentials.join(", ")}` : ""}${scopes.length ? `, scope ${scopes.join(" | ")}` : ""}`,
    );
  }
  const tenant = config.tenants[0];
  const app = config.applications.find((candidate) => (candidate.secrets?.length ?? 0) > 0);
  if (tenant !== undefined && app !== undefined) {
    // The lines a user pastes to point a daemon (EnvironmentCredential's variables) at this emulator.
    // The secret itself is never printed: it stays in the directory (or the README, for the demo).
    lines.push("point a daemon at it:");
    lines.push(`  export AZURE_AUTHORITY_HOST=${emulator.url}`);
    lines.push(`  export AZURE_TENANT_ID=${tenant.id}`);
    lines.push(`  export AZURE_CLIENT_ID=${app.clientId}`);
    lines.push(`  export AZURE_CLIENT_SECRET='<a client secret of ${app.displayName ?? app.clientId}${values.config === undefined ? ", see the package README" : ` in ${values.config}`}>'`);
  }
  for (const identity of config.managedIdentities ?? []) {
    const kind = identity.systemAssigned === true ? "system-assigned" : `user-assigned${identity.resourceId === undefined ? "" : ` ${identity.resourceId}`}`;
    lines.push(`  managed identity ${identity.displayName ?? identity.clientId}: client id ${identity.clientId}, object id ${identity.objectId}, ${kind}`);
  }
  if ((config.managedIdentities ?? []).length > 0) {
    // The identity header is this emulator instance's own random development value (like the demo secret), so it may be shown.
    lines.push("point a managed identity client at it, as on a VM (IMDS):");
    for (const [name, value] of Object.entries(emulator.managedIdentityEnvironment("imds"))) lines.push(`  export ${name}=${value}`);
    lines.push("or as on App Service (the header is this emulator's random development value):");
    for (const [name, value] of Object.entries(emulator.managedIdentityEnvironment("app-service"))) lines.push(`  export ${name}=${value}`);
  }
  if (emulator.caCertificatePath !== undefined) {
    lines.push(`CA certificate: ${emulator.caCertificatePath}`);
    lines.push(`  trust it with: export NODE_EXTRA_CA_CERTS=${emulator.caCertificatePath}`);
  }
  lines.push("Press Ctrl-C to stop.");
  process.stdout.write(`${lines.join("\n")}\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${command}: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

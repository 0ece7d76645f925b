// daemon-auth-emulator: runs the emulator until Ctrl-C / SIGTERM.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadEmulatorConfig, type EmulatorConfig } from "./config.js";
import { demoEmulatorConfig } from "./demo-config.js";
import { startEmulator } from "./emulator.js";

const USAGE = `Usage: daemon-auth-emulator [options]

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

/** Thrown for a command-line mistake: printed on one line, exit code 2. */
class UsageError extends Error {}

function positiveInteger(value: string | undefined, flag: string, allowZero = false): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || (!allowZero && number === 0)) {
    throw new UsageError(`${flag} expects a whole number${allowZero ? "" : " above 0"}, got "${value}"`);
  }
  return number;
}

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
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
    throw new UsageError((error as Error).message.split("\n")[0] ?? "invalid arguments");
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const port = positiveInteger(values.port, "--port", true) ?? 5599;
  if (port > 65535) throw new UsageError(`--port expects 0 to 65535, got ${port}`);
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
        process.stderr.write(`daemon-auth-emulator: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "";
  } catch {
    return "";
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`daemon-auth-emulator: ${error.message} (see --help)\n`);
    process.exit(2);
  }
  process.stderr.write(`daemon-auth-emulator ${version()}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

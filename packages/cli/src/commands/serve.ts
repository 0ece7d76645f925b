import { homedir } from "node:os";
import { join } from "node:path";
import type { TokenCacheStore } from "@daemon-auth/core";
import { createRedisCache } from "@daemon-auth/cache-redis";
import { ENVIRONMENT_VARIABLES } from "@daemon-auth/environment";
import { createUndiciTransport } from "@daemon-auth/http-undici";
import { checkHeaderSecret, jsonLinesLog, readOrCreateHeaderFile, startSidecar, type RunningSidecar } from "@daemon-auth/sidecar";
import { parseCommand, UsageError } from "../lib/args.js";
import type { CommandRun } from "../lib/command.js";
import { CONFIGURATION_HELP, CONFIGURATION_OPTIONS, resolveConfiguration } from "../lib/configuration.js";

/** The variable that holds the header secret. */
export const SERVE_HEADER_VARIABLE = "DAEMON_AUTH_SERVE_HEADER";

const DEFAULT_HEADER_FILE = join(homedir(), ".daemon-auth", "serve-header");

const USAGE = `Usage: daemon-auth serve --allow-scope <scope>... [options] [configuration]

Runs a token sidecar: every process on this host, in any language, gets this app's
tokens from one cache, with one token request per key. Azure SDKs use it unchanged
through the App Service managed identity protocol:

  IDENTITY_ENDPOINT=<url>/msi/token IDENTITY_HEADER=<secret>   (ManagedIdentityCredential)
  GET <url>/token?scope=<resource>/.default[&tenant=<id>]       (anything else)

Every token request carries the secret in the X-IDENTITY-HEADER header. Prints one line
with the URL on stdout once listening; logs JSON lines on stderr; stops on SIGTERM.

Options:
  --allow-scope <scope>    a scope to serve (repeat); any other is refused
  --allow-tenant <id>      another tenant callers may name with tenant= (repeat)
  --port <n>               TCP port; 0 picks a free one            [default: 0]
  --host <address>         address to listen on                    [default: 127.0.0.1]
  --allow-remote           allow a --host other hosts can reach (see the README)
  --header-file <path>     file holding the header secret; created (0600) with a new
                           random secret when missing   [default: ${SERVE_HEADER_VARIABLE}, else
                           ${DEFAULT_HEADER_FILE}]
  -h, --help               show this help

Shared cache: with REDIS_URL set, every sidecar of the fleet shares tokens and the
refresh lock through Redis.

${CONFIGURATION_HELP}
Example:
  daemon-auth serve --allow-scope https://graph.microsoft.com/.default --header-file /run/secrets/identity-header
`;

/** `daemon-auth serve`: the token sidecar, until SIGTERM or SIGINT. */
export const serve: CommandRun = async (argv, io) => {
  const parsed = parseCommand(
    argv,
    {
      usage: USAGE,
      options: {
        ...CONFIGURATION_OPTIONS,
        "allow-scope": { type: "string", multiple: true },
        "allow-tenant": { type: "string", multiple: true },
        port: { type: "string" },
        host: { type: "string" },
        "allow-remote": { type: "boolean" },
        "header-file": { type: "string" },
      },
    },
    io,
  );
  if (parsed === undefined) return 0;
  const values = parsed.values;
  const allowScopes = values["allow-scope"] ?? [];
  if (allowScopes.length === 0) throw new UsageError("missing --allow-scope <resource>/.default: the sidecar serves only the scopes you allow");
  const port = parsePort(values.port);
  const configuration = await resolveConfiguration(values, io);
  const log = jsonLinesLog((line) => io.err(line));
  const header = await headerSecret(values["header-file"], io.env[SERVE_HEADER_VARIABLE], (path, created) =>
    log(
      created
        ? { level: "warn", msg: "generated a new header secret (mode 0600); callers send its content as IDENTITY_HEADER", headerFile: path }
        : { level: "info", msg: "header secret read from file", headerFile: path },
    ),
  );

  // Listening for the signals before the URL is printed: a supervisor may stop the sidecar
  // as soon as it reads the URL, and Node's default action would skip the clean stop.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const redisUrl = io.env[ENVIRONMENT_VARIABLES.redisUrl]?.trim();
  const cache: TokenCacheStore | undefined = redisUrl ? createRedisCache({ url: redisUrl }) : undefined;
  const transport = createUndiciTransport();
  const release = async (): Promise<void> => {
    await cache?.dispose?.();
    await transport.dispose();
  };
  let sidecar: RunningSidecar;
  try {
    sidecar = await startSidecar({
      client: { ...configuration.clientOptions, transport, ...(cache === undefined ? {} : { cache }) },
      header,
      allowScopes,
      ...(values["allow-tenant"] === undefined ? {} : { allowTenants: values["allow-tenant"] }),
      ...(values.host === undefined ? {} : { host: values.host }),
      port,
      allowRemote: values["allow-remote"] === true,
      log,
    });
  } catch (error) {
    await release();
    throw error;
  }
  log({ level: "info", msg: "configuration", description: configuration.description, sharedCache: cache === undefined ? "none" : "redis" });
  io.out(`${sidecar.url}\n`);

  const signal = await stopSignal;
  log({ level: "info", msg: "stopping", signal });
  await sidecar.close();
  await release();
  return 0;
};

/** The header secret: `--header-file` (created when missing), else the variable, else the default file. */
async function headerSecret(
  file: string | undefined,
  variable: string | undefined,
  report: (path: string, created: boolean) => void,
): Promise<string> {
  const fromVariable = variable?.trim();
  if (file === undefined && fromVariable !== undefined && fromVariable !== "") {
    try {
      checkHeaderSecret(fromVariable);
    } catch (error) {
      throw new UsageError(`${SERVE_HEADER_VARIABLE}: ${(error as Error).message}`);
    }
    return fromVariable;
  }
  const path = file ?? DEFAULT_HEADER_FILE;
  const read = await readOrCreateHeaderFile(path);
  report(path, read.created);
  return read.secret;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--port takes a number from 0 to 65535 (0 = a free port), not '${value.slice(0, 20)}'`);
  return port;
}

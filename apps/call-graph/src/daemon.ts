/**
 * The daemon: lists the users of its tenant through Microsoft Graph with an app-only
 * token, page by page. Configuration comes from the environment, with the names
 * `@azure/identity`'s EnvironmentCredential reads:
 *
 *   AZURE_TENANT_ID, AZURE_CLIENT_ID, and AZURE_CLIENT_SECRET | AZURE_CLIENT_CERTIFICATE_PATH
 *   [+ AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_CLIENT_SEND_CERTIFICATE_CHAIN] | AZURE_FEDERATED_TOKEN_FILE,
 *   [AZURE_AUTHORITY_HOST] [REDIS_URL] [GRAPH_URL] [GRAPH_PAGE_SIZE]
 *
 * `pnpm demo` runs this very function against the local emulator.
 */
import { ConfigurationError, createDaemonClient, DaemonAuthError, type TokenCacheStore, type TokenSource } from "@daemon-auth/core";
import { createRedisCache } from "@daemon-auth/cache-redis";
import { configurationFromEnvironment } from "@daemon-auth/environment";
import { ConsentRequiredError, createApiFetch } from "@daemon-auth/http-undici";
import { listUsers } from "./graph-users.js";

/** The resource whose application permission (`User.Read.All`) the daemon needs. */
export const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
const DEFAULT_GRAPH_URL = "https://graph.microsoft.com";

/** Where {@link main} writes: `console` by default. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** Exit codes of {@link main}. */
export const ExitCode = { success: 0, failure: 1, configuration: 2 } as const;

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Lists every user of the tenant, printing a line per page (with where its token came
 * from) and one per user. Never prints a secret or a token.
 *
 * @returns the exit code: 0 when every page was listed, 1 on failure (a missing admin
 * consent prints the admin consent URL), 2 when the configuration is invalid.
 */
export async function main(env: Environment = process.env, output: Output = console): Promise<number> {
  let settings: ReturnType<typeof settingsFrom>;
  let cache: TokenCacheStore | undefined;
  try {
    settings = settingsFrom(env);
    cache = settings.config.redisUrl === undefined ? undefined : createRedisCache({ url: settings.config.redisUrl });
  } catch (error) {
    output.error(`call-graph: ${error instanceof Error ? error.message : String(error)} Or run 'pnpm demo' to try it offline.`);
    return ExitCode.configuration;
  }
  const { config, graphUrl, pageSize } = settings;
  output.log(`call-graph: ${config.describe()}`);
  output.log(`   Microsoft Graph at ${graphUrl}${config.redisUrl === undefined ? "" : ", tokens shared through Redis"}`);

  // What the client did, as it reports it: token requests, and where each token came from.
  let tokenRequests = 0;
  let lastSource: TokenSource | undefined;
  const client = createDaemonClient({
    ...config.clientOptions,
    ...(cache === undefined ? {} : { cache }),
    telemetry: { onTokenRequest: () => void tokenRequests++, onAcquire: ({ source }) => (lastSource = source) },
  });
  const graph = createApiFetch({
    client,
    scopes: [GRAPH_SCOPE],
    origins: [new URL(graphUrl).origin],
    ...(config.clientOptions.authorityHost === undefined ? {} : { consent: { authorityHost: config.clientOptions.authorityHost } }),
  });

  let users = 0;
  let pages = 0;
  try {
    for await (const page of listUsers(graph, graphUrl, pageSize)) {
      pages++;
      users += page.users.length;
      output.log(`page ${page.number}: ${page.users.length} users (token from ${lastSource ?? "?"})`);
      for (const user of page.users) output.log(`   ${user.displayName.padEnd(24)} ${user.userPrincipalName}`);
    }
    output.log(`${users} users on ${pages} pages, ${tokenRequests} token request${tokenRequests === 1 ? "" : "s"}.`);
    return ExitCode.success;
  } catch (error) {
    if (error instanceof ConsentRequiredError) {
      output.error(
        `call-graph: Microsoft Graph refused the app ${error.clientId} (${error.apiError}): it needs the application permission ` +
          `User.Read.All with admin consent in tenant ${error.tenantId}. Add the permission to the app registration, ` +
          `then ask an admin of the tenant to open:\n   ${error.adminConsentUrl}`,
      );
    } else {
      output.error(`call-graph: ${error instanceof DaemonAuthError ? `${error.name}: ` : ""}${error instanceof Error ? error.message : String(error)}`);
    }
    return ExitCode.failure;
  } finally {
    await client.dispose();
    await cache?.dispose?.();
  }
}

function settingsFrom(env: Environment): { config: ReturnType<typeof configurationFromEnvironment>; graphUrl: string; pageSize: number | undefined } {
  const config = configurationFromEnvironment(env);
  const graphUrl = (env["GRAPH_URL"]?.trim() || DEFAULT_GRAPH_URL).replace(/\/+$/, "");
  let parsed: URL | undefined;
  try {
    parsed = new URL(graphUrl);
  } catch {
    parsed = undefined;
  }
  const loopback = parsed !== undefined && ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed === undefined || parsed.search !== "" || !(parsed.protocol === "https:" || (parsed.protocol === "http:" && loopback))) {
    throw new ConfigurationError(`Set GRAPH_URL to Graph's https base URL, such as ${DEFAULT_GRAPH_URL} (http only on loopback); it is "${graphUrl}".`);
  }
  const pageSizeText = env["GRAPH_PAGE_SIZE"]?.trim();
  const pageSize = pageSizeText === undefined || pageSizeText === "" ? undefined : Number(pageSizeText);
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 999)) {
    throw new ConfigurationError(`Set GRAPH_PAGE_SIZE to a whole number from 1 to 999, or leave it out for Graph's default; it is "${pageSizeText}".`);
  }
  return { config, graphUrl, pageSize };
}

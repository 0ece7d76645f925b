import { parseCommand, UsageError } from "../lib/args.js";
import { openClient } from "../lib/client.js";
import type { CommandRun } from "../lib/command.js";
import { CONFIGURATION_HELP, CONFIGURATION_OPTIONS, resolveConfiguration } from "../lib/configuration.js";

const USAGE = `Usage: daemon-auth token --scope <resource>/.default [configuration] [--json]

Acquires an app-only access token (OAuth 2.0 client credentials grant) and prints
only the token, for \`TOKEN=$(daemon-auth token --scope …)\`.

Options:
  --scope <scope>   the resource's ".default" scope, e.g. https://graph.microsoft.com/.default
  --json            print { accessToken, expiresOn, tokenType, source, authority } instead;
                    authority.form says how the host was given: "host" or
                    "host-and-tenant" (--authority), "environment" or "default"
  -h, --help        show this help

${CONFIGURATION_HELP}
Example:
  export AZURE_TENANT_ID=… AZURE_CLIENT_ID=… AZURE_CLIENT_SECRET=…
  curl -H "Authorization: Bearer $(daemon-auth token --scope api://my-api/.default)" …
`;

/** `daemon-auth token`: acquire a token and print it. */
export const token: CommandRun = async (argv, io) => {
  const parsed = parseCommand(argv, { usage: USAGE, options: { ...CONFIGURATION_OPTIONS, scope: { type: "string" }, json: { type: "boolean" } } }, io);
  if (parsed === undefined) return 0;
  const { scope, json } = parsed.values;
  if (scope === undefined) throw new UsageError("missing --scope <resource>/.default, e.g. --scope https://graph.microsoft.com/.default");
  const configuration = await resolveConfiguration(parsed.values, io);
  const opened = openClient(configuration);
  try {
    const result = await opened.client.acquireTokenForClient({ scopes: [scope] });
    io.out(
      json === true
        ? `${JSON.stringify(
            {
              accessToken: result.accessToken,
              expiresOn: result.expiresOn.toISOString(),
              tokenType: result.tokenType,
              source: result.source,
              authority: { host: configuration.authorityHost, tenant: result.tenantId, form: configuration.authorityForm },
            },
            null,
            2,
          )}\n`
        : `${result.accessToken}\n`,
    );
    return 0;
  } finally {
    await opened.close();
  }
};

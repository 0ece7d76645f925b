import { CLOUD_AUTHORITY_HOSTS } from "@daemon-auth/core";
import { ENVIRONMENT_VARIABLES as VARIABLES } from "@daemon-auth/environment";
import { buildAdminConsentUrl } from "@daemon-auth/core/protocol";
import { parseCommand, UsageError } from "../lib/args.js";
import type { CommandRun } from "../lib/command.js";

const USAGE = `Usage: daemon-auth consent-url --tenant <id> --client-id <id> [--redirect-uri <url>] [--state <value>]

Prints the admin consent URL: a tenant's admin opens it to grant the app the
application permissions on its registration (the one-time onboarding of a tenant).

Options:
  --tenant <id>         the tenant to ask (GUID or verified domain), or "organizations"
                        to let any work or school admin consent      [default: AZURE_TENANT_ID]
  --client-id <id>      the application (client) id                  [default: AZURE_CLIENT_ID]
  --redirect-uri <url>  where the admin is sent afterwards; must be registered on the app
  --state <value>       echoed back on the redirect, to match the answer to the request
  --authority <url>     sign-in host           [default: AZURE_AUTHORITY_HOST or ${CLOUD_AUTHORITY_HOSTS.public}]
  -h, --help            show this help
`;

/** `daemon-auth consent-url`: print the admin consent URL. */
export const consentUrl: CommandRun = async (argv, io) => {
  const parsed = parseCommand(
    argv,
    {
      usage: USAGE,
      options: {
        tenant: { type: "string" },
        "client-id": { type: "string" },
        "redirect-uri": { type: "string" },
        state: { type: "string" },
        authority: { type: "string" },
      },
    },
    io,
  );
  if (parsed === undefined) return 0;
  const { values } = parsed;
  const tenantId = values.tenant ?? io.env[VARIABLES.tenantId];
  const clientId = values["client-id"] ?? io.env[VARIABLES.clientId];
  const missing = [
    tenantId ? "" : `--tenant (or ${VARIABLES.tenantId})`,
    clientId ? "" : `--client-id (or ${VARIABLES.clientId})`,
  ].filter(Boolean);
  if (tenantId === undefined || clientId === undefined || missing.length > 0) throw new UsageError(`missing ${missing.join("; ")}`);
  const authorityHost = values.authority ?? io.env[VARIABLES.authorityHost];
  const url = buildAdminConsentUrl({
    tenantId,
    clientId,
    ...(values["redirect-uri"] === undefined ? {} : { redirectUri: values["redirect-uri"] }),
    ...(values.state === undefined ? {} : { state: values.state }),
    ...(authorityHost ? { authorityHost } : {}),
  });
  io.out(`${url}\n`);
  return 0;
};

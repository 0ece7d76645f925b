import { normalizeEntraScopes, ServerError, type HttpTransport } from "@daemon-auth/core";
import { fetchMetadataDocument, globalOriginOfRegional, isGuid, parseErrorResponse, type MetadataDocument } from "@daemon-auth/core/protocol";
import type { CertificateCredential } from "@daemon-auth/credential-certificate";
import { parseCommand } from "../lib/args.js";
import { openClient, type CliClient } from "../lib/client.js";
import type { CommandRun } from "../lib/command.js";
import { oneLine } from "../lib/messages.js";
import { CONFIGURATION_HELP, CONFIGURATION_OPTIONS, resolveConfiguration, type CliConfiguration } from "../lib/configuration.js";
import { tokenRoles, decodeToken } from "../lib/jwt.js";
import { dateWithRelative, relativeTime } from "../lib/time.js";

/**
 * Largest clock difference with the server that passes: the tolerance Entra ID and the
 * common token validators (Microsoft.IdentityModel, MSAL) allow for `nbf`/`exp`.
 */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** A certificate this close to its end still passes, with a reminder to rotate. */
const CERTIFICATE_RENEWAL_WINDOW_MS = 30 * 86_400_000;
const DISCOVERY_TIMEOUT_MS = 15_000;

const USAGE = `Usage: daemon-auth doctor --scope <resource>/.default [configuration]

Checks a configuration step by step and prints PASS, FAIL or SKIP for each check,
with the fix for each failure. Exit code 1 when any check fails.

  configuration   the flags and AZURE_* variables name a tenant, an app and a credential
  scope           the scope has the "<resource>/.default" shape
  tenant          the tenant's OpenID configuration is served and its issuer matches
  clock           the local clock is within ${MAX_CLOCK_SKEW_MS / 60_000} minutes of the server's Date header
  certificate     thumbprints and validity of the certificate (certificate credentials)
  token endpoint  the tenant's token endpoint answers
  token           a token is acquired, and the roles it carries

Options:
  --scope <scope>  the resource's ".default" scope, e.g. https://graph.microsoft.com/.default
  -h, --help       show this help

${CONFIGURATION_HELP}`;

type Status = "PASS" | "FAIL" | "SKIP";

/** The outcome of one check. `fix` is printed under a failure. */
interface CheckResult {
  readonly status: Status;
  readonly detail: string;
  /** More lines of facts (thumbprints, …). */
  readonly facts?: readonly string[];
  readonly fix?: string | undefined;
}

const pass = (detail: string, facts?: readonly string[]): CheckResult => ({ status: "PASS", detail, ...(facts ? { facts } : {}) });
const fail = (detail: string, fix?: string): CheckResult => ({ status: "FAIL", detail, fix });
const skip = (detail: string): CheckResult => ({ status: "SKIP", detail });

/** What the tenant check learned, for the checks after it. */
interface Discovery {
  readonly tokenEndpoint: string | undefined;
  /** The server's `Date` minus the local time at the middle of the round trip, in ms. */
  readonly clockOffsetMs: number | undefined;
}

/** `daemon-auth doctor`: check a configuration, with the fix for each failure. */
export const doctor: CommandRun = async (argv, io) => {
  const parsed = parseCommand(argv, { usage: USAGE, options: { ...CONFIGURATION_OPTIONS, scope: { type: "string" } } }, io);
  if (parsed === undefined) return 0;
  let failures = 0;
  const report = (name: string, result: CheckResult): void => {
    if (result.status === "FAIL") failures++;
    const lines = [`${result.status}  ${name.padEnd(14)}  ${result.detail}`];
    for (const fact of result.facts ?? []) lines.push(`${" ".repeat(22)}${fact}`);
    if (result.fix !== undefined) lines.push(`${" ".repeat(22)}fix: ${result.fix}`);
    io.out(`${lines.join("\n")}\n`);
  };

  let configuration: CliConfiguration | undefined;
  let opened: CliClient | undefined;
  try {
    configuration = await resolveConfiguration(parsed.values, io);
    opened = openClient(configuration);
    report("configuration", pass(configuration.description));
  } catch (error) {
    report("configuration", fail(oneLine(error)));
  }
  const scopeResult = checkScope(parsed.values.scope);
  report("scope", scopeResult);

  try {
    if (configuration === undefined || opened === undefined) {
      for (const name of ["tenant", "clock", "certificate", "token endpoint", "token"]) report(name, skip("needs a valid configuration"));
    } else {
      const { result, discovery } = await checkTenant(configuration, opened.transport);
      report("tenant", result);
      report("clock", checkClock(discovery.clockOffsetMs));
      report("certificate", await checkCertificate(configuration));
      report("token endpoint", result.status === "PASS" ? await checkTokenEndpoint(discovery.tokenEndpoint, opened.transport) : skip("needs the tenant to resolve"));
      const scope = parsed.values.scope;
      report("token", scopeResult.status === "PASS" && scope !== undefined ? await checkToken(opened, scope) : skip("needs a valid scope"));
    }
  } finally {
    await opened?.close();
  }
  io.out(failures === 0 ? "\nAll checks passed.\n" : `\n${failures} check${failures === 1 ? "" : "s"} failed.\n`);
  return failures === 0 ? 0 : 1;
};

function checkScope(scope: string | undefined): CheckResult {
  if (scope === undefined) return fail("no scope given", "pass --scope <resource>/.default, e.g. --scope https://graph.microsoft.com/.default");
  try {
    normalizeEntraScopes([scope]);
    return pass(scope);
  } catch (error) {
    return fail(oneLine(error));
  }
}

/** Fetches the tenant's OpenID configuration and checks the issuer it declares. */
async function checkTenant(configuration: CliConfiguration, transport: HttpTransport): Promise<{ result: CheckResult; discovery: Discovery }> {
  const { tenantId } = configuration.clientOptions;
  const host = configuration.authorityHost;
  const url = `${host}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
  const unknown: Discovery = { tokenEndpoint: undefined, clockOffsetMs: undefined };
  const sent = Date.now();
  let document: MetadataDocument;
  try {
    // Core's fetch: redirects refused, size capped, body text never quoted.
    document = await fetchMetadataDocument(url, transport, { timeoutMs: DISCOVERY_TIMEOUT_MS });
  } catch (error) {
    return {
      result: fail(oneLine(error), "check --authority (AZURE_AUTHORITY_HOST), the network, and HTTPS_PROXY / NO_PROXY"),
      discovery: unknown,
    };
  }
  const { status, body } = document;
  const discovery: Discovery = { tokenEndpoint: undefined, clockOffsetMs: clockOffset(document.headers, sent) };
  if (status !== 200 || body === undefined) {
    // Core's parsing, so a server's echo is redacted here as in the client's errors.
    const refusal = body === undefined ? undefined : parseErrorResponse(body, status);
    if (refusal !== undefined) {
      return {
        result: fail(`${url} refused the tenant: ${refusalSummary(refusal)}`, refusal.mitigation ?? "check --tenant (AZURE_TENANT_ID)"),
        discovery,
      };
    }
    return {
      result: fail(
        `${url} answered HTTP ${status}${body === undefined ? " without a JSON document" : ""}`,
        `check --authority (AZURE_AUTHORITY_HOST): it must be an Entra ID sign-in host such as https://login.microsoftonline.com`,
      ),
      discovery,
    };
  }
  const issuer = body["issuer"];
  const tokenEndpoint = typeof body["token_endpoint"] === "string" ? body["token_endpoint"] : undefined;
  // A regional host (ESTS-R) issues the global host's tokens: either host may be the issuer's.
  const issuerHost = globalOriginOfRegional(host) ?? host;
  const hosts = issuerHost === host ? escapeRegExp(host) : `${escapeRegExp(host)}|${escapeRegExp(issuerHost)}`;
  const match = typeof issuer === "string" ? new RegExp(`^(?:${hosts})/([^/]+)/v2\\.0$`, "i").exec(issuer) : null;
  const issuedTenant = match?.[1];
  const wanted = `${issuerHost}/${isGuid(tenantId) ? tenantId : "<tenant id>"}/v2.0`;
  if (issuedTenant === undefined || !isGuid(issuedTenant) || (isGuid(tenantId) && issuedTenant.toLowerCase() !== tenantId.toLowerCase())) {
    return {
      result: fail(
        `the OpenID configuration at ${url} declares issuer '${String(issuer).slice(0, 200)}', not ${wanted}`,
        "check --authority (AZURE_AUTHORITY_HOST) and --tenant: tokens from this server would not carry the issuer its APIs expect",
      ),
      discovery: { ...discovery, tokenEndpoint },
    };
  }
  const named = issuedTenant.toLowerCase() === tenantId.toLowerCase() ? `tenant ${issuedTenant}` : `${tenantId} is tenant ${issuedTenant}`;
  return { result: pass(`${named} (issuer ${issuer as string})`), discovery: { ...discovery, tokenEndpoint } };
}

function checkClock(offsetMs: number | undefined): CheckResult {
  if (offsetMs === undefined) return skip("no answer with a Date header from the server to compare with");
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  const direction = offsetMs > 0 ? "behind" : "ahead of";
  const detail = seconds <= 1 ? "the local clock agrees with the server's Date header (within 1 s)" : `the local clock is ${seconds} s ${direction} the server`;
  if (Math.abs(offsetMs) <= MAX_CLOCK_SKEW_MS) return pass(detail);
  return fail(
    `${detail} (more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes)`,
    "synchronize the clock (NTP: `timedatectl set-ntp true`, or `w32tm /resync` on Windows): signed assertions and token times are checked against it",
  );
}

async function checkCertificate(configuration: CliConfiguration): Promise<CheckResult> {
  if (configuration.credentialKind !== "certificate") {
    return skip(`the credential is a ${configuration.credentialKind === "secret" ? "client secret" : "federated token file"}`);
  }
  let info;
  try {
    info = await (configuration.clientOptions.credential as CertificateCredential).certificateInfo();
  } catch (error) {
    return fail(oneLine(error));
  }
  const facts = [
    `SHA-1 thumbprint   ${info.thumbprints.sha1} (the "Thumbprint" the Azure portal shows)`,
    `SHA-256 thumbprint ${info.thumbprints.sha256} (x5t#S256 ${info.x5tS256})`,
    `valid from ${info.notBefore.toISOString()} to ${info.notAfter.toISOString()}, issuer ${info.issuer}, ${info.key} key, chain of ${info.chainLength}`,
  ];
  const now = Date.now();
  const rotate = "create a new certificate, upload its public part to the app registration, and point --certificate (AZURE_CLIENT_CERTIFICATE_PATH) at it";
  if (now > info.notAfter.getTime()) {
    return { ...fail(`${info.subject} from ${info.source} EXPIRED on ${info.notAfter.toISOString()} (${relativeTime(info.notAfter, now)})`, rotate), facts };
  }
  if (now < info.notBefore.getTime()) {
    return {
      ...fail(
        `${info.subject} from ${info.source} is not valid before ${dateWithRelative(info.notBefore, now)}`,
        "check the clock, or keep using the current certificate until then",
      ),
      facts,
    };
  }
  const soon = info.notAfter.getTime() - now < CERTIFICATE_RENEWAL_WINDOW_MS ? "; rotate it soon" : "";
  return pass(`${info.subject} from ${info.source}, expires ${relativeTime(info.notAfter, now)}${soon}`, facts);
}

/** A GET is enough: any HTTP answer but 404 and 5xx shows the endpoint is there (tokens are POSTed). */
async function checkTokenEndpoint(tokenEndpoint: string | undefined, transport: HttpTransport): Promise<CheckResult> {
  if (tokenEndpoint === undefined) {
    return fail("the tenant's OpenID configuration names no token_endpoint", "check --authority (AZURE_AUTHORITY_HOST): it must be an Entra ID sign-in host");
  }
  try {
    const response = await transport(tokenEndpoint, { method: "GET", headers: {}, signal: AbortSignal.timeout(15_000), redirect: "manual" });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404 || response.status >= 500) {
      return fail(`${tokenEndpoint} answered HTTP ${response.status}`, "the sign-in host is failing or is not an Entra ID host: check --authority, then retry later");
    }
    return pass(`${tokenEndpoint} answers (HTTP ${response.status} to a GET)`);
  } catch (error) {
    return fail(oneLine(error), "check the network, and HTTPS_PROXY / NO_PROXY");
  }
}

async function checkToken({ client }: CliClient, scope: string): Promise<CheckResult> {
  try {
    const result = await client.acquireTokenForClient({ scopes: [scope] });
    let roles: string[] = [];
    try {
      roles = tokenRoles(decodeToken(result.accessToken).claims);
    } catch {
      // An opaque (non-JWT) token is valid too; it just cannot be inspected.
    }
    const granted =
      roles.length > 0
        ? `roles: ${roles.join(", ")}`
        : "no roles: no application permission on this resource has admin consent; an API that checks roles will answer 403";
    return pass(`acquired a ${result.tokenType} token, expires ${relativeTime(result.expiresOn)}; ${granted}`);
  } catch (error) {
    if (error instanceof ServerError) return fail(`the token endpoint refused: ${refusalSummary(error)}`, error.mitigation ?? firstSentence(error.errorDescription));
    return fail(oneLine(error));
  }
}

/** The server's `Date` minus the local time halfway through the request, in ms. */
function clockOffset(headers: Headers, sent: number): number | undefined {
  const date = Date.parse(headers.get("date") ?? "");
  if (Number.isNaN(date)) return undefined;
  // Date has whole seconds: compare with the middle of the round trip.
  return date + 500 - (sent + Date.now()) / 2;
}

function refusalSummary(error: ServerError): string {
  const codes = error.errorCodes.length > 0 ? ` (AADSTS${error.errorCodes.join(", AADSTS")})` : "";
  return `${error.error}${codes}, HTTP ${error.status}${error.traceId === undefined ? "" : `, trace id ${error.traceId}`}`;
}

/** The first sentence of a server's description, without Entra's trailing trace block. */
function firstSentence(description: string | undefined): string | undefined {
  return description?.split(/\r?\n| Trace ID:/)[0]?.slice(0, 300);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

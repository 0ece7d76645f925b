import { accessSync, constants } from "node:fs";
import { ConfigurationError } from "@daemon-auth/core";
import type { IdentitySelector, ManagedIdentitySource } from "../options.js";

type Environment = Readonly<Record<string, string | undefined>>;

/** A detected source: where to ask, how, and what of it must never be printed. */
export interface SourceEndpoint {
  readonly name: ManagedIdentitySource;
  /** The token endpoint, without a query. */
  readonly url: URL;
  readonly method: "GET" | "POST";
  readonly apiVersion: string | undefined;
  /** Headers of every request, the source's secret header included. */
  readonly headers: Readonly<Record<string, string>>;
  /** Values never to print, and to redact from a server's echo. */
  readonly secrets: readonly string[];
  /** The query parameter naming a user-assigned identity, per kind of id; `undefined` when the source cannot take it. */
  readonly idParameters: Readonly<Record<NonNullable<IdentitySelector>["kind"], string | undefined>>;
  /** Query parameters of every request besides the resource (Machine Learning's default identity). */
  readonly extraQuery: Readonly<Record<string, string>>;
  /** The retry policy of the platform (see retry-policy.ts). */
  readonly retry: "imds" | "default";
  /** Service Fabric: the thumbprint the endpoint's TLS certificate must have. */
  readonly thumbprint?: string | undefined;
}

const IMDS_PATH = "/metadata/identity/oauth2/token";
const IMDS_HOST = "http://169.254.169.254";
const ARC_DEFAULT_ENDPOINT = "http://127.0.0.1:40342/metadata/identity/oauth2/token";

/** The Azure Arc agent's executable, whose presence means Arc when the variables are missing (as msal-node checks). */
function arcAgentPath(env: Environment, platform: NodeJS.Platform): string | undefined {
  if (platform === "linux") return "/opt/azcmagent/bin/himds";
  if (platform === "win32" && env["ProgramFiles"]) return `${env["ProgramFiles"]}\\AzureConnectedMachineAgent\\himds.exe`;
  return undefined;
}

function readable(path: string | undefined): boolean {
  if (path === undefined) return false;
  try {
    accessSync(path, constants.F_OK | constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The source the environment names, in `@azure/msal-node`'s order (a variable counts
 * when it is set and not empty): Service Fabric (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`,
 * `IDENTITY_SERVER_THUMBPRINT`), App Service (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`),
 * Machine Learning (`MSI_ENDPOINT`, `MSI_SECRET`), Cloud Shell (`MSI_ENDPOINT`), Azure
 * Arc (`IDENTITY_ENDPOINT`, `IMDS_ENDPOINT`, or the agent installed), else IMDS
 * (`AZURE_POD_IDENTITY_AUTHORITY_HOST` or 169.254.169.254).
 *
 * @throws {ConfigurationError} when a variable is not a URL, or the source cannot serve the identity asked for.
 */
export function detectSource(env: Environment, identity: IdentitySelector, platform: NodeJS.Platform = process.platform): SourceEndpoint {
  const has = (...names: string[]) => names.every((name) => (env[name] ?? "") !== "");
  const value = (name: string) => env[name] ?? "";
  if (has("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT")) {
    const url = endpointUrl(value("IDENTITY_ENDPOINT"), "IDENTITY_ENDPOINT", "service-fabric");
    if (url.protocol !== "https:") {
      throw new ConfigurationError(
        `Managed identity (service-fabric): IDENTITY_ENDPOINT must be an https URL, since its certificate is pinned by IDENTITY_SERVER_THUMBPRINT; got '${url.origin}'.`,
      );
    }
    return {
      ...common("service-fabric", url, "2019-07-01-preview", { secret: value("IDENTITY_HEADER") }),
      idParameters: NON_IMDS_IDS,
      thumbprint: checkThumbprint(value("IDENTITY_SERVER_THUMBPRINT")),
    };
  }
  if (has("IDENTITY_ENDPOINT", "IDENTITY_HEADER")) {
    const url = endpointUrl(value("IDENTITY_ENDPOINT"), "IDENTITY_ENDPOINT", "app-service");
    return { ...common("app-service", url, "2019-08-01", { "X-IDENTITY-HEADER": value("IDENTITY_HEADER") }), idParameters: NON_IMDS_IDS };
  }
  if (has("MSI_ENDPOINT", "MSI_SECRET")) {
    const url = endpointUrl(value("MSI_ENDPOINT"), "MSI_ENDPOINT", "machine-learning");
    const source = common("machine-learning", url, "2017-09-01", { Metadata: "true", secret: value("MSI_SECRET") });
    // The 2017 API names a user-assigned identity by client id only, and the system-assigned one by the default client id.
    if (identity !== undefined && identity.kind !== "clientId") refuseUserAssigned("machine-learning", "its client id ('clientId')");
    const extraQuery: Record<string, string> = identity === undefined && has("DEFAULT_IDENTITY_CLIENT_ID") ? { clientid: value("DEFAULT_IDENTITY_CLIENT_ID") } : {};
    return { ...source, idParameters: { clientId: "clientid", objectId: undefined, resourceId: undefined }, extraQuery };
  }
  if (has("MSI_ENDPOINT")) {
    const url = endpointUrl(value("MSI_ENDPOINT"), "MSI_ENDPOINT", "cloud-shell");
    if (identity !== undefined) refuseUserAssigned("cloud-shell", undefined);
    return { ...common("cloud-shell", url, undefined, { Metadata: "true" }), method: "POST", idParameters: NO_IDS };
  }
  const agentInstalled = !has("IDENTITY_ENDPOINT", "IMDS_ENDPOINT") && readable(arcAgentPath(env, platform));
  if (has("IDENTITY_ENDPOINT", "IMDS_ENDPOINT") || agentInstalled) {
    const raw = agentInstalled ? ARC_DEFAULT_ENDPOINT : value("IDENTITY_ENDPOINT");
    if (!agentInstalled) endpointUrl(value("IMDS_ENDPOINT"), "IMDS_ENDPOINT", "azure-arc");
    // The agent listens on IPv4 loopback; "localhost" may resolve to ::1 first.
    const url = endpointUrl(raw, "IDENTITY_ENDPOINT", "azure-arc");
    if (url.hostname === "localhost") url.hostname = "127.0.0.1";
    return { ...common("azure-arc", url, "2020-06-01", { Metadata: "true" }), idParameters: IMDS_IDS };
  }
  const host = value("AZURE_POD_IDENTITY_AUTHORITY_HOST") || IMDS_HOST;
  let url: URL;
  try {
    // As @azure/identity builds it: the path replaces whatever path the host variable has.
    url = new URL(IMDS_PATH, host);
  } catch (cause) {
    throw malformed("AZURE_POD_IDENTITY_AUTHORITY_HOST", "imds", cause);
  }
  return { ...common("imds", url, "2018-02-01", { Metadata: "true" }), idParameters: IMDS_IDS, retry: "imds" };
}

const IMDS_IDS = { clientId: "client_id", objectId: "object_id", resourceId: "msi_res_id" } as const;
const NON_IMDS_IDS = { clientId: "client_id", objectId: "object_id", resourceId: "mi_res_id" } as const;
const NO_IDS = { clientId: undefined, objectId: undefined, resourceId: undefined } as const;

function common(name: ManagedIdentitySource, url: URL, apiVersion: string | undefined, headers: Record<string, string>): Omit<SourceEndpoint, "idParameters"> {
  const secrets = Object.entries(headers)
    .filter(([header]) => header !== "Metadata")
    .map(([, value]) => value);
  return { name, url, method: "GET", apiVersion, headers, secrets, extraQuery: {}, retry: "default" };
}

function endpointUrl(value: string, variable: string, source: ManagedIdentitySource): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw malformed(variable, source, cause);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw malformed(variable, source, undefined);
  url.search = "";
  url.hash = "";
  return url;
}

function malformed(variable: string, source: ManagedIdentitySource, cause: unknown): ConfigurationError {
  return new ConfigurationError(
    `Managed identity (${source}): the environment variable ${variable} is not an http(s) URL. ` +
      "The platform sets it; unset it if this process is not running there, or pass 'env' with the right value.",
    { cause },
  );
}

function refuseUserAssigned(source: ManagedIdentitySource, supported: string | undefined): never {
  throw new ConfigurationError(
    `Managed identity (${source}): this source ${supported === undefined ? "serves only its system-assigned identity" : `names a user-assigned identity by ${supported} only`}; ` +
      (supported === undefined ? "remove 'clientId', 'objectId' and 'resourceId'." : "pass the identity's 'clientId' instead."),
  );
}

/** A SHA-1 (40) or SHA-256 (64) hex thumbprint, separators dropped, upper case. */
function checkThumbprint(value: string): string {
  const thumbprint = value.replace(/[\s:]/g, "").toUpperCase();
  if (!/^(?:[0-9A-F]{40}|[0-9A-F]{64})$/.test(thumbprint)) {
    throw new ConfigurationError(
      "Managed identity (service-fabric): IDENTITY_SERVER_THUMBPRINT must be the endpoint certificate's SHA-1 (40 hex digits) or SHA-256 (64) thumbprint, as Service Fabric sets it.",
    );
  }
  return thumbprint;
}

/** The request for `resource`: URL with query, method, headers and (Cloud Shell) form body. */
export function buildRequest(
  source: SourceEndpoint,
  resource: string,
  identity: IdentitySelector,
): { url: string; method: "GET" | "POST"; headers: Record<string, string>; body?: string } {
  const url = new URL(source.url);
  const params = new URLSearchParams();
  if (source.apiVersion !== undefined) params.set("api-version", source.apiVersion);
  params.set("resource", resource);
  for (const [name, value] of Object.entries(source.extraQuery)) params.set(name, value);
  if (identity !== undefined) {
    const parameter = source.idParameters[identity.kind];
    if (parameter !== undefined) params.set(parameter, identity.value);
  }
  const headers = { ...source.headers };
  if (source.method === "POST") {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    return { url: url.toString(), method: "POST", headers, body: params.toString() };
  }
  url.search = params.toString();
  return { url: url.toString(), method: "GET", headers };
}

import type { AzureCloud, DaemonClientOptions } from "../client-types.js";
import { InvalidRequestError } from "../errors.js";
import type { OptionChecks } from "./option-checks.js";
import { checkServerUrl, checkTenant, isLoopbackHost, printableValue } from "./validation.js";

/** The national clouds' authority hosts; no discovery round trip is needed for them. */
export const CLOUD_AUTHORITY_HOSTS: Readonly<Record<AzureCloud, string>> = {
  public: "https://login.microsoftonline.com",
  usgov: "https://login.microsoftonline.us",
  china: "https://login.chinacloudapi.cn",
};

/**
 * Origins trusted without `knownAuthorities`: the national clouds, and the public cloud's
 * aliases that MSAL's instance discovery lists for it.
 */
const TRUSTED_ORIGINS: ReadonlySet<string> = new Set([
  ...Object.values(CLOUD_AUTHORITY_HOSTS),
  "https://login.microsoft.com",
  "https://login.windows.net",
]);

/**
 * The hosts whose `<region>.` subdomains are a cloud's regional hosts (ESTS-R), and the
 * cloud's global origin: MSAL's rule, `<region>.login.microsoft.com` for the public cloud
 * and `<region>.<host>` for the others.
 */
const REGIONAL_PARENT_HOSTS: ReadonlyMap<string, string> = new Map([
  ["login.microsoft.com", CLOUD_AUTHORITY_HOSTS.public],
  ["login.microsoftonline.us", CLOUD_AUTHORITY_HOSTS.usgov],
  ["login.chinacloudapi.cn", CLOUD_AUTHORITY_HOSTS.china],
]);

/**
 * The global origin of a Microsoft cloud's regional host (`https://westus2.login.microsoft.com`
 * → `https://login.microsoftonline.com`), or `undefined` for any other URL. A regional
 * host issues the global host's tokens: their issuer names the global origin.
 */
export function globalOriginOfRegional(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { protocol, port, hostname } = new URL(url);
  const dot = hostname.indexOf(".");
  if (protocol !== "https:" || port !== "" || dot <= 0 || !/^[a-z0-9-]{1,40}$/.test(hostname.slice(0, dot))) return undefined;
  return REGIONAL_PARENT_HOSTS.get(hostname.slice(dot + 1));
}

/** Where tokens come from: an Entra-shaped host (tenant in the path) or a generic issuer. */
export type Authority = EntraAuthority | GenericAuthority;

export interface EntraAuthority {
  readonly kind: "entra";
  /** Origin plus any path prefix, without the tenant: `https://login.microsoftonline.com`. */
  readonly base: string;
  readonly defaultTenant: string;
}

export interface GenericAuthority {
  readonly kind: "generic";
  /**
   * The issuer identifier exactly as configured: RFC 8414 §3.3 compares it with the
   * discovered `issuer` character for character, so case and a trailing `/` matter.
   */
  readonly issuer: string;
  /** The only "tenant" of a generic server; the issuer stands in for it in cache keys. */
  readonly defaultTenant: string;
}

/** Builds the authority from the client options, refusing ambiguous or unsafe ones. */
export function resolveAuthority(options: DaemonClientOptions, check: OptionChecks): Authority {
  if (options.issuer !== undefined) {
    const entraOptions = (["authority", "tenantId", "cloud", "authorityHost", "knownAuthorities", "validateAuthority"] as const).filter((name) => options[name] !== undefined);
    if (entraOptions.length > 0) {
      throw check.error(
        `'issuer' names a generic OAuth 2.0 server; drop ${entraOptions.map((name) => `'${name}'`).join(", ")}, which apply to Entra ID.`,
      );
    }
    checkServerUrl(options.issuer, "issuer", check.error);
    const issuer = options.issuer;
    return { kind: "generic", issuer, defaultTenant: issuer };
  }
  if (options.authority !== undefined) {
    if (options.cloud !== undefined || options.authorityHost !== undefined) {
      throw check.error("'authority' already names the host: drop 'cloud' and 'authorityHost'.");
    }
    return trusted(check, parseEntraAuthority(check, options.authority, options.tenantId), options, "authority");
  }
  if (options.tenantId === undefined) {
    throw check.error(
      "say where tokens come from: 'tenantId' (Entra ID), 'authority' (an Entra authority URL) or 'issuer' (a generic OAuth 2.0 server).",
    );
  }
  if (options.cloud !== undefined && options.authorityHost !== undefined) {
    throw check.error("give 'cloud' or 'authorityHost', not both.");
  }
  let host: string;
  if (options.authorityHost !== undefined) {
    host = checkServerUrl(options.authorityHost, "authorityHost", check.error).href.replace(/\/+$/, "");
  } else {
    const cloud = options.cloud ?? "public";
    // Own properties only: "__proto__" or "toString" must not name a cloud.
    const known = typeof cloud === "string" && Object.hasOwn(CLOUD_AUTHORITY_HOSTS, cloud) ? CLOUD_AUTHORITY_HOSTS[cloud] : undefined;
    if (known === undefined) {
      throw check.error(`'cloud' must be "public", "usgov" or "china" (or set 'authorityHost' instead), not '${printableValue(cloud)}'.`);
    }
    host = known;
  }
  const authority: EntraAuthority = { kind: "entra", base: host, defaultTenant: checkTenant(options.tenantId, "'tenantId'", check.error) };
  return trusted(check, authority, options, "authorityHost");
}

/**
 * Refuses an Entra-shaped host that is neither a Microsoft cloud, nor loopback, nor
 * listed in `knownAuthorities`: every token request hands it the client's secret or a
 * signed assertion, so a typo or a planted `AZURE_AUTHORITY_HOST` must not be enough.
 * MSAL asks instance discovery or requires `knownAuthorities` for the same reason.
 */
function trusted(check: OptionChecks, authority: EntraAuthority, options: DaemonClientOptions, option: "authority" | "authorityHost"): EntraAuthority {
  const known = checkKnownAuthorities(check, options.knownAuthorities);
  const validate = options.validateAuthority;
  if (validate !== undefined && typeof validate !== "boolean") {
    throw check.error(`'validateAuthority' must be true or false, not '${printableValue(validate)}'.`);
  }
  const url = new URL(authority.base);
  const trustedOrigin = TRUSTED_ORIGINS.has(url.origin) || globalOriginOfRegional(url.origin) !== undefined;
  if (validate === false || trustedOrigin || isLoopbackHost(url.hostname) || known.has(url.host.toLowerCase())) {
    return authority;
  }
  throw check.error(
    `the '${option}' host '${url.host}' is not a Microsoft cloud authority, and it would receive the client's credential. ` +
      `If you trust it, list it: knownAuthorities: ["${url.host}"] (or set validateAuthority: false).`,
  );
}

function checkKnownAuthorities(check: OptionChecks, value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set();
  const list: unknown[] = Array.isArray(value) ? value : [value];
  const wrong = list.find((host) => typeof host !== "string" || !/^[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(host));
  if (!Array.isArray(value) || wrong !== undefined) {
    throw check.error(
      `'knownAuthorities' must list host names (with the port when not 443), e.g. ["login.contoso.com"], not '${printableValue(wrong ?? value)}'.`,
    );
  }
  return new Set((value as string[]).map((host) => host.toLowerCase()));
}

function parseEntraAuthority(check: OptionChecks, authority: string, tenantId: string | undefined): EntraAuthority {
  const url = checkServerUrl(authority, "authority", check.error);
  const segments = url.pathname.split("/").filter(Boolean);
  const last = segments.at(-1);
  if (last === undefined) {
    throw check.error(
      `'authority' must end with the tenant: '${url.origin}/<tenant id or domain>'. Or pass 'authorityHost' and 'tenantId'.`,
    );
  }
  if (/^(v2\.0|oauth2|token)$/i.test(last)) {
    throw check.error(
      `'authority' must be the host and tenant only ('${url.origin}/<tenant>'), without '/${last}': the token endpoint path is added for you.`,
    );
  }
  const tenant = checkTenant(decodeURIComponent(last), "the tenant in 'authority'", check.error);
  if (tenantId !== undefined && (typeof tenantId !== "string" || tenantId.toLowerCase() !== tenant)) {
    throw check.error(`'tenantId' (${printableValue(tenantId)}) and the tenant in 'authority' (${tenant}) differ: give one.`);
  }
  const prefix = segments.slice(0, -1).join("/");
  return { kind: "entra", base: prefix ? `${url.origin}/${prefix}` : url.origin, defaultTenant: tenant };
}

/**
 * The tenant a request is for, validated when the caller names one. Tenant ids are
 * case-insensitive (GUIDs and DNS names), so they come back in lower case: one tenant,
 * one cache key, however the caller spells it.
 */
export function requestTenant(authority: Authority, tenantId: string | undefined): string {
  if (tenantId === undefined || tenantId === authority.defaultTenant) return authority.defaultTenant;
  if (authority.kind === "generic") {
    throw new InvalidRequestError("'tenantId' applies to Entra authorities only; this client talks to a generic 'issuer'.");
  }
  return checkTenant(tenantId, "'tenantId'", (message) => new InvalidRequestError(message));
}

/** The Entra v2.0 token endpoint of a tenant. */
export function entraTokenEndpoint(authority: EntraAuthority, tenant: string): string {
  return `${authority.base}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
}

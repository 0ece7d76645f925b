import type { EntraAuthority } from "../lib/authority.js";
import { HttpError, InvalidResponseError, ServerError, TimeoutError } from "../errors.js";
import type { OptionChecks } from "../lib/option-checks.js";
import { printableValue } from "../lib/validation.js";

/** How long the global host is used after the regional one failed. */
export const REGION_FALLBACK_MS = 5 * 60_000;

/** The public cloud's hosts: MSAL sends their regional requests to `<region>.login.microsoft.com`. */
const PUBLIC_CLOUD_HOSTS = new Set(["login.microsoftonline.com", "login.microsoft.com", "login.windows.net"]);
/** The other clouds, whose regional host is `<region>.<host>`, as MSAL builds it. */
const OTHER_CLOUD_HOSTS = new Set(["login.microsoftonline.us", "login.chinacloudapi.cn"]);

/**
 * The region from `azureRegion`: a region name, or `"auto"` / `"TryAutoDetect"` reading
 * `REGION_NAME` as MSAL does (none when it is unset); `undefined` without the option.
 */
export function resolveRegion(value: unknown, check: OptionChecks): { region: string | undefined; detected: boolean } {
  if (value === undefined) return { region: undefined, detected: false };
  if (typeof value !== "string" || !/^[A-Za-z0-9-]{1,40}$/.test(value)) {
    throw check.error(`'azureRegion' must be a region name such as "westus2", or "auto", not '${printableValue(value)}'.`);
  }
  if (/^(auto|TryAutoDetect)$/i.test(value)) {
    const detected = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["REGION_NAME"]?.trim();
    const region = detected !== undefined && /^[A-Za-z0-9-]{1,40}$/.test(detected) ? detected.toLowerCase() : undefined;
    return { region, detected: true };
  }
  return { region: value.toLowerCase(), detected: false };
}

/**
 * The regional base of an Entra authority (MSAL's host rules), or `undefined` when the
 * authority is not a Microsoft cloud: a custom or known authority host never goes regional.
 */
export function regionalBase(authority: EntraAuthority, region: string): string | undefined {
  const url = new URL(authority.base);
  if (url.protocol !== "https:" || url.port !== "" || url.pathname !== "/") return undefined;
  if (PUBLIC_CLOUD_HOSTS.has(url.hostname)) return `https://${region}.login.microsoft.com`;
  if (OTHER_CLOUD_HOSTS.has(url.hostname)) return `https://${region}.${url.hostname}`;
  return undefined;
}

/** A failure of the regional host itself (unreachable, timed out, 5xx), worth the global host. */
export function isRegionalOutage(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (error instanceof ServerError) return error.status >= 500;
  if (error instanceof HttpError) return error.status === undefined ? !(error instanceof InvalidResponseError) : error.status >= 500;
  return false;
}

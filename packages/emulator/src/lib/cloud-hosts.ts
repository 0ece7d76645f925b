// The Microsoft clouds' sign-in host names, global and regional (ESTS-R), as a
// client reaches the emulator when it resolves them to loopback. Entra's rule
// (and MSAL's): a regional token comes from `<region>.login.microsoft.com` in the
// public cloud and `<region>.<host>` in the others, and it is the same token as
// the global host's, so its issuer names the cloud's global host.

/** Each cloud's global host and the hosts whose `<region>.` subdomains are its regional hosts. */
const CLOUDS: readonly { global: string; aliases: readonly string[]; regionalParent: string }[] = [
  { global: "login.microsoftonline.com", aliases: ["login.microsoft.com", "login.windows.net"], regionalParent: "login.microsoft.com" },
  { global: "login.microsoftonline.us", aliases: [], regionalParent: "login.microsoftonline.us" },
  { global: "login.chinacloudapi.cn", aliases: ["login.partner.microsoftonline.cn"], regionalParent: "login.chinacloudapi.cn" },
];

/** What a `Host` header naming a Microsoft cloud tells. */
export interface CloudHost {
  /** The cloud's global origin, e.g. `https://login.microsoftonline.com`: the issuer's host on either kind of host. */
  readonly globalOrigin: string;
  /** The region of a regional host (`westus2`), lower-cased; undefined on a global host. */
  readonly region: string | undefined;
}

const REGION = /^[a-z0-9-]{1,40}$/;

/** The cloud and region a `Host` header (with or without a port) names, or undefined for any other host. */
export function cloudHost(hostHeader: string | undefined): CloudHost | undefined {
  if (hostHeader === undefined) return undefined;
  const name = hostHeader.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  for (const cloud of CLOUDS) {
    const globalOrigin = `https://${cloud.global}`;
    if (name === cloud.global || cloud.aliases.includes(name)) return { globalOrigin, region: undefined };
    const suffix = `.${cloud.regionalParent}`;
    if (name.endsWith(suffix)) {
      const region = name.slice(0, -suffix.length);
      if (REGION.test(region)) return { globalOrigin, region };
    }
  }
  return undefined;
}

/** Names the HTTPS server certificate covers so that clients resolving the cloud hosts to loopback verify it. */
export const CLOUD_CERTIFICATE_NAMES: readonly string[] = CLOUDS.flatMap((cloud) => [cloud.global, ...cloud.aliases, `*.${cloud.regionalParent}`]);

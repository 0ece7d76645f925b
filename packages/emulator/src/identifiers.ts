// Tenant and client identifiers as Entra ID compares them. A leaf module: the
// configuration, the directory and the endpoints all need these rules, so they
// must not live in any of them.
//
// The emulator keeps its own GUID rule instead of core's `isGuid`: it stands in for
// Entra ID and depends on no daemon-auth package (core's tests run against it, so a
// dependency on core would make the workspace graph circular).

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Path segments that name no tenant: the multi-tenant endpoints of interactive flows. */
export const NON_TENANTS: ReadonlySet<string> = new Set(["common", "organizations", "consumers"]);

/** Whether a string is a GUID in its usual 8-4-4-4-12 form. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** Whether a string is a DNS name that can be a verified domain. */
export function isDomainName(value: string): boolean {
  return DOMAIN.test(value);
}

/** Client ids are compared like Entra does: GUIDs case-insensitively. */
export function normalizeClientId(clientId: string): string {
  return isGuid(clientId) ? clientId.toLowerCase() : clientId;
}

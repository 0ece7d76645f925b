// The `{tenant}` path segment of Entra's endpoints, resolved as Entra does.
import { AadstsFailure } from "../aadsts.js";
import type { TenantConfig } from "../config/types.js";
import { isDomainName, isGuid, NON_TENANTS } from "../identifiers.js";
import type { Directory } from "./directory.js";

/** Resolves the `{tenant}` path segment or fails with the code Entra uses. */
export function resolveTenantSegment(directory: Directory, segment: string): TenantConfig {
  if (NON_TENANTS.has(segment.toLowerCase())) {
    throw new AadstsFailure(
      50059,
      `No tenant-identifying information found in either the request or implied by any provided credentials. The client credentials flow needs a concrete tenant: use the tenant id or a verified domain instead of '${segment}'.`,
    );
  }
  if (!isGuid(segment) && !isDomainName(segment)) {
    throw new AadstsFailure(900023, `Specified tenant identifier '${segment}' is neither a valid DNS name, nor a valid external domain.`);
  }
  const tenant = directory.resolveTenant(segment);
  if (tenant === undefined) {
    throw new AadstsFailure(
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }
  return tenant;
}

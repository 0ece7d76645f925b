import { AbortError, raceAbort } from "@daemon-auth/core";
import { buildAdminConsentUrl } from "@daemon-auth/core/protocol";
import { startConsentReceiver } from "./consent-receiver.js";
import type { TenantRegistry } from "./registry.js";
import type { Settings } from "./settings.js";

/** The admin consent URL of the app for one customer tenant. */
export function consentUrlFor(settings: Settings, tenant: string, options: { redirectUri?: string; state?: string } = {}): string {
  return buildAdminConsentUrl({
    tenantId: tenant,
    clientId: settings.identity.clientOptions.clientId,
    redirectUri: options.redirectUri ?? settings.redirectUri,
    authorityHost: settings.authorityHost,
    ...(options.state === undefined ? {} : { state: options.state }),
  });
}

/** Options of {@link onboardTenants}. */
export interface OnboardingOptions {
  /** Receives each progress line. */
  print: (line: string) => void;
  /**
   * Called with each tenant's consent URL once the receiver listens: a person sends it to
   * the tenant's admin; the offline demo answers it itself.
   */
  onConsentUrl?: (tenant: string, url: string) => void;
  /** Stops waiting for the remaining answers. */
  signal?: AbortSignal;
}

/** How onboarding ended for the tenants it asked. */
export interface OnboardingResult {
  readonly consented: readonly string[];
  readonly declined: readonly string[];
  /** Not answered before the signal. */
  readonly unanswered: readonly string[];
}

/**
 * Asks every tenant of `settings.tenants` that is not consented yet for admin consent:
 * prints its admin consent URL, receives the admins' redirects on the app's (loopback)
 * redirect URI and records each answer in the registry the workers read.
 */
export async function onboardTenants(settings: Settings, registry: TenantRegistry, options: OnboardingOptions): Promise<OnboardingResult> {
  const { print } = options;
  const known = await registry.all();
  const asking = settings.tenants.filter((tenant) => known.get(tenant.toLowerCase())?.status !== "consented");
  const consented: string[] = settings.tenants.filter((tenant) => !asking.includes(tenant));
  for (const tenant of consented) print(`${tenant}: already onboarded`);
  const declined: string[] = [];
  if (asking.length === 0) return { consented, declined, unanswered: [] };

  const receiver = await startConsentReceiver(settings.redirectUri);
  try {
    print(`Send each admin their tenant's consent URL; answers arrive at ${receiver.redirectUri}`);
    const urls = asking.map((tenant) => [tenant, consentUrlFor(settings, tenant, { redirectUri: receiver.redirectUri, state: receiver.stateFor(tenant) })] as const);
    for (const [tenant, url] of urls) print(`${tenant}: ${url}`);
    for (const [tenant, url] of urls) options.onConsentUrl?.(tenant, url);
    const waiting = new Set(asking);
    while (waiting.size > 0) {
      let answer;
      try {
        answer = await raceAbort(receiver.next(), options.signal, "onboarding");
      } catch (error) {
        if (error instanceof AbortError) break;
        throw error;
      }
      const { tenant, result } = answer;
      waiting.delete(tenant);
      if (result.granted) {
        await registry.record(tenant, { status: "consented", detail: `tenant id ${result.tenant}`, by: "onboard" });
        consented.push(tenant);
        print(`${tenant}: admin consent granted (tenant id ${result.tenant})`);
      } else {
        const detail = `${result.error}${result.errorDescription === undefined ? "" : `: ${result.errorDescription}`}`;
        await registry.record(tenant, { status: "declined", detail, by: "onboard" });
        declined.push(tenant);
        print(`${tenant}: admin consent NOT given (${detail})`);
      }
    }
    return { consented, declined, unanswered: [...waiting] };
  } finally {
    await receiver.close();
  }
}

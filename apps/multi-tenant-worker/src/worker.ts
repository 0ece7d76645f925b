import { setTimeout as delay } from "node:timers/promises";
import { createRedisCache } from "@daemon-auth/cache-redis";
import { createDaemonClient, ServerError, type TokenSource } from "@daemon-auth/core";
import { ConsentRequiredError, createApiFetch } from "@daemon-auth/http-undici";
import { Redis } from "ioredis";
import { consentUrlFor } from "./onboarding.js";
import { TenantRegistry } from "./registry.js";
import { GRAPH_SCOPE, type Settings } from "./settings.js";

/** Token endpoint answers meaning "this tenant no longer (or never) consented": re-consent, do not retry. */
const CONSENT_GONE = new Set([700016, 500011, 65001, 650052]);
/** Other failures of one tenant are retried next round, this many times in a row at most. */
export const MAX_CONSECUTIVE_FAILURES = 3;

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Shown on every line, e.g. `worker-1`. */
  name: string;
  print: (line: string) => void;
  /** Ends the worker after the current tenant; it then prints its summary. */
  signal?: AbortSignal;
}

/** What one worker did. */
export interface WorkerSummary {
  readonly rounds: number;
  readonly items: number;
  /** Tokens by where they came from: this process's cache, the shared Redis cache, or the token endpoint. */
  readonly tokenSources: Readonly<Record<TokenSource, number>>;
  /** Tenants this worker found without consent (it stopped scheduling them). */
  readonly needsConsent: readonly string[];
  /** Tenants paused after {@link MAX_CONSECUTIVE_FAILURES} failures in a row. */
  readonly paused: readonly string[];
}

function consentProblem(error: unknown): string | undefined {
  if (error instanceof ServerError && error.errorCodes.some((code) => CONSENT_GONE.has(code))) {
    return `the token endpoint refused the tenant (AADSTS${error.errorCodes.join(", AADSTS")}: app not provisioned there)`;
  }
  if (error instanceof ConsentRequiredError) return `the API refused the permission (${error.apiError})`;
  return undefined;
}

/**
 * The ISV's worker: round after round, processes every consented customer tenant of
 * `settings.tenants` with a token for that tenant (one client, `tenantId` per request;
 * tokens shared with the other workers through Redis), and lists the tenant's users
 * through Microsoft Graph. A tenant whose consent is gone is recorded as
 * `needs-consent` with its consent URL and not scheduled again until `onboard` records
 * its consent anew; other failures are
 * retried on the next rounds, {@link MAX_CONSECUTIVE_FAILURES} times in a row at most.
 */
export async function runWorker(settings: Settings, options: WorkerOptions): Promise<WorkerSummary> {
  const { name, print, signal } = options;
  const redis = new Redis(settings.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => {
    // Reported by the failing command; ioredis would print every reconnect otherwise.
  });
  const registry = new TenantRegistry(redis);
  const cache = createRedisCache({ client: redis });
  const sources: Record<TokenSource, number> = { cache: 0, "shared-cache": 0, network: 0 };
  let firstSource: TokenSource | undefined;
  const client = createDaemonClient({
    ...settings.identity.clientOptions,
    cache,
    telemetry: {
      onAcquire: ({ source }) => {
        sources[source] += 1;
        firstSource ??= source;
      },
    },
  });
  const graphOrigin = new URL(settings.graphUrl).origin;
  const apis = new Map(
    settings.tenants.map((tenant) => [
      tenant,
      createApiFetch({ client, scopes: [GRAPH_SCOPE], tenantId: tenant, origins: [graphOrigin], consent: { authorityHost: settings.authorityHost, redirectUri: settings.redirectUri } }),
    ]),
  );
  const failures = new Map<string, number>();
  const reported = new Set<string>();
  const needsConsent: string[] = [];
  const paused: string[] = [];
  let items = 0;
  let round = 0;

  const listUsers = async (tenant: string): Promise<number> => {
    const api = apis.get(tenant)!;
    let url: string | undefined = `${settings.graphUrl}/users?$top=10`;
    let count = 0;
    while (url !== undefined) {
      const response = await api(url, { headers: { accept: "application/json" } });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`GET /users answered HTTP ${response.status}`);
      }
      const page = (await response.json()) as { value?: unknown[]; "@odata.nextLink"?: string };
      count += page.value?.length ?? 0;
      url = page["@odata.nextLink"];
    }
    return count;
  };

  try {
    await redis.connect();
    while (!signal?.aborted && (settings.rounds === undefined || round < settings.rounds)) {
      round += 1;
      const registered = await registry.all();
      let roundItems = 0;
      for (const tenant of settings.tenants) {
        if (signal?.aborted) break;
        if (paused.includes(tenant)) continue;
        const record = registered.get(tenant.toLowerCase());
        if (needsConsent.includes(tenant)) {
          if (record?.status !== "consented") continue;
          // Onboarded again since: schedule it again.
          needsConsent.splice(needsConsent.indexOf(tenant), 1);
          reported.delete(tenant);
          client.clearCache(); // forgets the remembered AADSTS700016 too
          print(`[${name}] tenant ${tenant}: consented again; back in the schedule`);
        }
        if (record?.status !== "consented") {
          if (!reported.has(tenant)) {
            reported.add(tenant);
            const why = record === undefined ? "not onboarded yet" : record.status === "declined" ? `its admin declined (${record.detail ?? "no detail"})` : `needs re-consent (recorded by ${record.by}: ${record.detail ?? "no detail"})`;
            print(`[${name}] tenant ${tenant}: skipped, ${why}; consent URL ${consentUrlFor(settings, tenant)}`);
          }
          if (record?.status === "needs-consent") needsConsent.push(tenant);
          continue;
        }
        firstSource = undefined;
        try {
          const count = await listUsers(tenant);
          failures.delete(tenant);
          roundItems += count;
          print(`[${name}] round ${round} tenant ${tenant}: ${count} users, token from ${firstSource ?? "cache"}`);
        } catch (error) {
          const problem = consentProblem(error);
          if (problem !== undefined) {
            needsConsent.push(tenant);
            reported.add(tenant);
            await registry.record(tenant, { status: "needs-consent", detail: problem, by: name });
            print(`[${name}] tenant ${tenant}: CONSENT WITHDRAWN, ${problem}. Marked as needing re-consent and no longer scheduled; ask its admin to open ${consentUrlFor(settings, tenant)}`);
            continue;
          }
          const count = (failures.get(tenant) ?? 0) + 1;
          failures.set(tenant, count);
          const message = error instanceof Error ? error.message : String(error);
          if (count >= MAX_CONSECUTIVE_FAILURES) {
            paused.push(tenant);
            print(`[${name}] tenant ${tenant}: failed ${count} times in a row (${message}); paused until this worker restarts`);
          } else {
            print(`[${name}] tenant ${tenant}: failed (${message}); retrying next round`);
          }
        }
      }
      items += roundItems;
      print(`[${name}] round ${round} done: ${roundItems} users`);
      if (!signal?.aborted && (settings.rounds === undefined || round < settings.rounds)) {
        await delay(settings.intervalMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
      }
    }
  } finally {
    await client.dispose();
    await cache.dispose?.();
    redis.disconnect();
  }
  return { rounds: round, items, tokenSources: sources, needsConsent, paused };
}

/** One line for a worker's summary. */
export function describeSummary(name: string, summary: WorkerSummary): string {
  const tokens = Object.entries(summary.tokenSources).map(([source, count]) => `${source} ${count}`).join(", ");
  const consent = summary.needsConsent.length === 0 ? "none" : summary.needsConsent.join(", ");
  return `[${name}] summary: ${summary.rounds} rounds, ${summary.items} users, tokens from ${tokens}; needs re-consent: ${consent}${summary.paused.length === 0 ? "" : `; paused: ${summary.paused.join(", ")}`}`;
}

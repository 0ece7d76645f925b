import type { Redis } from "ioredis";

/** Where a customer tenant stands. */
export type TenantStatus = "consented" | "declined" | "needs-consent";

/** One tenant's entry in the registry. */
export interface TenantRecord {
  readonly status: TenantStatus;
  /** Why (the consent error, the AADSTS code of a withdrawn consent); never a token. */
  readonly detail?: string;
  /** Who recorded it: `onboard` or a worker's name. */
  readonly by: string;
  /** ISO 8601 time of the change. */
  readonly at: string;
}

const STATUSES: readonly TenantStatus[] = ["consented", "declined", "needs-consent"];

/**
 * The customer tenants' onboarding state, in the Redis the workers already share for
 * tokens: `onboard` records consent, a worker that finds consent withdrawn records
 * `needs-consent`, and every worker stops scheduling that tenant.
 */
export class TenantRegistry {
  readonly #redis: Redis;
  readonly #key: string;

  /** @param key - the Redis hash; one field per tenant. */
  constructor(redis: Redis, key = "daemon-auth-sample:multi-tenant-worker:tenants") {
    this.#redis = redis;
    this.#key = key;
  }

  async record(tenant: string, record: Omit<TenantRecord, "at">): Promise<void> {
    await this.#redis.hset(this.#key, tenant.toLowerCase(), JSON.stringify({ ...record, at: new Date().toISOString() }));
  }

  /** Every recorded tenant (lower-cased); entries that do not parse are left out. */
  async all(): Promise<Map<string, TenantRecord>> {
    const fields = await this.#redis.hgetall(this.#key);
    const records = new Map<string, TenantRecord>();
    for (const [tenant, text] of Object.entries(fields)) {
      const record = parseRecord(text);
      if (record !== undefined) records.set(tenant, record);
    }
    return records;
  }

  /** Forgets every tenant (the offline demo starts from scratch). */
  async clear(): Promise<void> {
    await this.#redis.del(this.#key);
  }

  async get(tenant: string): Promise<TenantRecord | undefined> {
    const text = await this.#redis.hget(this.#key, tenant.toLowerCase());
    return text === null ? undefined : parseRecord(text);
  }
}

/** A foreign or damaged entry reads as "not onboarded". */
function parseRecord(text: string): TenantRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<TenantRecord>;
    if (STATUSES.includes(value.status as TenantStatus) && typeof value.by === "string" && typeof value.at === "string") return value as TenantRecord;
  } catch {
    // Falls through.
  }
  return undefined;
}

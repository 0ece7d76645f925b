// The request log: a step around everything else that records each request at
// arrival, completes the record with what the routes learned and what was
// answered, and writes one log line per request (never a secret).
import type { Directory } from "../lib/directory.js";
import type { Outcome } from "./answer.js";
import type { Step } from "./pipeline.js";
import type { RecordedRequest, RequestFacts } from "./request.js";

/** Filter of `Emulator.tokenRequestCount`. */
export interface TokenRequestFilter {
  clientId?: string;
  /** Tenant id or domain; matches requests that used either. */
  tenant?: string;
  /** Exact `scope` parameter. */
  scope?: string;
}

interface Entry {
  readonly method: string;
  readonly path: string;
  readonly at: number;
  readonly facts: Readonly<RequestFacts>;
  status: number;
  errorCodes?: number[];
}

function snapshot(entry: Entry): RecordedRequest {
  const { tokenRequest: _, ...facts } = entry.facts;
  return {
    method: entry.method,
    path: entry.path,
    ...facts,
    status: entry.status,
    ...(entry.errorCodes === undefined ? {} : { errorCodes: [...entry.errorCodes] }),
    at: entry.at,
  };
}

/** Every request in arrival order, and the log line of each. */
export class RequestLog {
  #entries: Entry[] = [];

  constructor(
    private readonly directory: Pick<Directory, "tenantKey">,
    private readonly log: ((line: string) => void) | undefined,
  ) {}

  /** The recording step: records the request at arrival, then what it was answered. */
  readonly step: Step = async (request, next) => {
    const started = Date.now();
    const entry: Entry = { method: request.method, path: request.pathname, at: request.now, facts: request.facts, status: 0 };
    this.#entries.push(entry);
    let outcome: Outcome | undefined;
    try {
      outcome = await next(request);
      return outcome;
    } finally {
      if (outcome !== undefined && "status" in outcome) {
        entry.status = outcome.status;
        if (outcome.errorCodes !== undefined) entry.errorCodes = [...outcome.errorCodes];
      }
      this.#write(entry, Date.now() - started);
    }
  };

  /** A snapshot of every recorded request. */
  requests(): RecordedRequest[] {
    return this.#entries.map(snapshot);
  }

  /** Number of requests to a token endpoint (any outcome) matching the filter. */
  tokenRequestCount(filter: TokenRequestFilter = {}): number {
    const { directory } = this;
    return this.#entries.filter(({ method, facts }) =>
      method === "POST" &&
      facts.tokenRequest === true &&
      (filter.clientId === undefined || (facts.clientId !== undefined && facts.clientId.toLowerCase() === filter.clientId.toLowerCase())) &&
      (filter.scope === undefined || facts.scope === filter.scope) &&
      (filter.tenant === undefined || (facts.tenant !== undefined && directory.tenantKey(facts.tenant) === directory.tenantKey(filter.tenant))),
    ).length;
  }

  /** Forgets the recorded requests. */
  reset(): void {
    this.#entries = [];
  }

  #write(entry: Entry, elapsedMs: number): void {
    if (this.log === undefined) return;
    const { facts } = entry;
    const parts = [`${entry.method} ${entry.path} ${entry.status}`];
    if (entry.errorCodes !== undefined) parts.push(`AADSTS${entry.errorCodes.join(",")}`);
    if (facts.clientId !== undefined) parts.push(`client=${facts.clientId}`);
    if (facts.scope !== undefined) parts.push(`scope=${facts.scope}`);
    if (facts.clientAuth !== undefined) parts.push(`auth=${facts.clientAuth}`);
    parts.push(`${elapsedMs}ms`);
    this.log(parts.join(" "));
  }
}

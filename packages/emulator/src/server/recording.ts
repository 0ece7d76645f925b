// The request log: a step around everything else that records each request at
// arrival, completes the record with what the routes learned and what was
// answered, and writes one log line per request (never a secret).
import type { Directory } from "../lib/directory.js";
import type { FaultKind } from "../lib/faults/types.js";
import type { Outcome } from "./answer.js";
import type { Step } from "./pipeline.js";

/** One request the emulator answered. Never holds secrets, assertions or tokens. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query. */
  path: string;
  /** The `{tenant}` path segment as the client sent it. */
  tenant?: string;
  clientId?: string;
  scope?: string;
  status: number;
  /** AADSTS codes of an error response. */
  errorCodes?: number[];
  grantType?: string;
  clientAuth?: "secret_post" | "secret_basic" | "assertion" | "none";
  /** Emulator clock at arrival (ms since the epoch). */
  at: number;
  /** The fault rule that answered (or delayed) the request, if any. A `status` of 0 means nothing was sent (hang, reset). */
  fault?: FaultKind;
}

/** Filter of `Emulator.tokenRequestCount`. */
export interface TokenRequestFilter {
  clientId?: string;
  /** Tenant id or domain; matches requests that used either. */
  tenant?: string;
  /** Exact `scope` parameter. */
  scope?: string;
}

/** What routes and steps learn about a request while handling it. */
export type RequestFacts = Partial<Pick<RecordedRequest, "tenant" | "clientId" | "scope" | "grantType" | "clientAuth" | "fault">> & {
  /** A request to a token endpoint (counted by `tokenRequestCount`, whatever its outcome). */
  tokenRequest?: boolean;
};

/** Facts as a route passes them: undefined values are left out of the record. */
export type NotedFacts = { [Name in keyof RequestFacts]?: RequestFacts[Name] | undefined };

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

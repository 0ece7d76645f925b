// The live fault rules, in order, and the choice of a fault for each request.
import type { Directory } from "../directory.js";
import type { Fault, FaultHandle, FaultMatch, FaultRule, Faults } from "./types.js";
import { validateFaultRule } from "./validation.js";

/** What a request is matched on. */
export interface FaultTarget {
  method: string;
  /** The URL path without the query. */
  path: string;
  /** Whether it is a token request (rules without `match.path` apply to those only). */
  tokenEndpoint: boolean;
  /** The `{tenant}` path segment, if the path has one. */
  tenant: string | undefined;
  clientId: string | undefined;
  /** The region of the regional host addressed, if any. */
  region: string | undefined;
}

interface LiveRule {
  readonly rule: FaultRule;
  hits: number;
  removed: boolean;
}

/** The rules, in order, and the choice of a fault for each request. */
export class FaultInjector implements Faults {
  #rules: LiveRule[] = [];

  /** @param directory tells whether a path segment names a rule's tenant (by id or domain). */
  constructor(private readonly directory: Pick<Directory, "tenantKey">) {}

  add(rule: FaultRule): FaultHandle {
    const live: LiveRule = { rule: validateFaultRule(rule), hits: 0, removed: false };
    this.#rules.push(live);
    return {
      remove: () => {
        live.removed = true;
        this.#rules = this.#rules.filter((other) => other !== live);
      },
      get hits() {
        return live.hits;
      },
    };
  }

  clear(): void {
    for (const live of this.#rules) live.removed = true;
    this.#rules = [];
  }

  /** The fault for this request (counted as a hit), or undefined. */
  pick(target: FaultTarget): Fault | undefined {
    for (const live of this.#rules) {
      const { rule } = live;
      if (live.removed || (rule.times !== undefined && live.hits >= rule.times)) continue;
      if (!this.#matches(rule.match ?? {}, target)) continue;
      if (rule.probability !== undefined && Math.random() >= rule.probability) continue;
      live.hits += 1;
      return rule.fault;
    }
    return undefined;
  }

  #matches(match: FaultMatch, target: FaultTarget): boolean {
    const { path } = match;
    if (path === undefined ? !target.tokenEndpoint : typeof path === "string" ? path !== target.path : !path.test(target.path)) return false;
    if (match.method !== undefined && match.method.toUpperCase() !== target.method.toUpperCase()) return false;
    if (match.tenant !== undefined && (target.tenant === undefined || this.directory.tenantKey(target.tenant) !== this.directory.tenantKey(match.tenant))) return false;
    if (match.clientId !== undefined && (target.clientId === undefined || target.clientId.toLowerCase() !== match.clientId.toLowerCase())) return false;
    if (match.region !== undefined && (target.region === undefined || (match.region !== "*" && match.region.toLowerCase() !== target.region))) return false;
    return true;
  }
}

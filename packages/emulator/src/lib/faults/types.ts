// Fault injection and Entra's loop detection as configured: the public types of
// rules, faults and limits. Types only, so the configuration can name them
// without depending on the machinery.

/** Which requests a {@link FaultRule} applies to; every given field must match. */
export interface FaultMatch {
  /**
   * The URL path (without the query): equal to a string, or tested by a RegExp.
   * @default the token endpoint, `/{tenant}/oauth2/v2.0/token`
   */
  path?: string | RegExp;
  /** The HTTP method, case-insensitive. */
  method?: string;
  /** The `{tenant}` path segment: the tenant id or any of its domains matches. */
  tenant?: string;
  /**
   * The client: on the token endpoint the form's `client_id`, the Basic user or
   * the client assertion's `sub`; elsewhere a `client_id` query parameter.
   */
  clientId?: string;
  /**
   * The region of the regional host (ESTS-R) the client addressed (`westus2` for
   * `westus2.login.microsoft.com`, case-insensitive), or `"*"` for any regional host.
   * Requests to a global host never match a rule with a region.
   */
  region?: string;
}

/** What the emulator does instead of (or before) its normal answer. */
export type Fault =
  /**
   * An Entra-shaped error response with this status (400–599). `retryAfter` adds
   * `Retry-After` in seconds (a number) or as an HTTP-date (a Date); `aadsts` picks
   * the code (default: 90055 for 429, 90033 for other 5xx, 9002313 for 4xx).
   */
  | { kind: "status"; status: number; retryAfter?: number | Date; aadsts?: number }
  /** Waits `ms`, then answers normally. */
  | { kind: "latency"; ms: number }
  /** Never answers: the request stays open until the client gives up or the emulator closes. */
  | { kind: "hang" }
  /** Resets the connection (TCP RST; over HTTPS an abrupt close) without an answer. */
  | { kind: "reset" }
  /** HTTP 200, `application/json`, and a body cut off mid-object. */
  | { kind: "malformed-json" }
  /** An HTML error page, as a proxy or load balancer sends, optionally with `Retry-After` (status 502 unless given). */
  | { kind: "html"; status?: number; retryAfter?: number | Date }
  /** HTTP 200 with a token response of `bytes` bytes (a huge `access_token`, 2 MiB unless given), sent chunked. */
  | { kind: "oversized"; bytes?: number }
  /** The normal answer with another `Content-Type` (`text/plain; charset=utf-8` unless given). */
  | { kind: "wrong-content-type"; contentType?: string };

/** The kinds of {@link Fault}. */
export type FaultKind = Fault["kind"];

/** A fault and the requests it applies to. The first live rule that matches a request applies. */
export interface FaultRule {
  /** @default token endpoint requests only */
  match?: FaultMatch;
  fault: Fault;
  /**
   * Apply to the next `times` matching requests, then stop.
   * @default unlimited
   */
  times?: number;
  /**
   * Chance (0..1) that a matching request gets the fault; a request that does not
   * is answered normally and does not count against `times`.
   * @default 1
   */
  probability?: number;
}

/** A rule added with {@link Faults.add}. */
export interface FaultHandle {
  /** Stops the rule. Safe to call twice. */
  remove(): void;
  /** Requests the rule has applied to so far. */
  readonly hits: number;
}

/** The emulator's fault rules, changeable at run time. */
export interface Faults {
  /** Adds a rule after the existing ones. Throws {@link EmulatorConfigError} when it is invalid. */
  add(rule: FaultRule): FaultHandle;
  /** Removes every rule. */
  clear(): void;
}

/**
 * Entra's loop detection: a client that asks for the same token (client, tenant,
 * scope) more than `maxRequests` times within `windowMs` gets HTTP 400
 * `invalid_grant` AADSTS50196 until it slows down (refused requests count too).
 */
export interface LoopDetectionOptions {
  maxRequests: number;
  windowMs: number;
}


// Fault injection and Entra's loop detection: what an unreliable network, an
// overloaded identity platform or a misbehaving proxy look like to a client,
// on demand, so clients can prove they survive them.
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { decodeJwt } from "jose";
import { AADSTS_CODES, AadstsFailure, errorResponse, htmlPage } from "../aadsts.js";
import { EmulatorConfigError } from "../config.js";
import { parseBasic } from "./token-endpoint.js";

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
  /** An HTML error page, as a proxy or load balancer sends, optionally with `Retry-After`. @default status 502 */
  | { kind: "html"; status?: number; retryAfter?: number | Date }
  /** HTTP 200 with a token response of `bytes` bytes (a huge `access_token`), sent chunked. @default bytes 2 MiB */
  | { kind: "oversized"; bytes?: number }
  /** The normal answer with another `Content-Type`. @default contentType "text/plain; charset=utf-8" */
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

/** What a request is matched on. */
export interface FaultTarget {
  method: string;
  path: string;
  tokenEndpoint: boolean;
  tenant: string | undefined;
  clientId: string | undefined;
}

/** Where a fault answers. */
export interface FaultContext {
  request: IncomingMessage;
  response: ServerResponse;
  baseUrl: string;
  correlationId: string;
  now: number;
}

/** What a fault sent: status 0 when nothing was (hang, reset). */
export interface FaultAnswer {
  status: number;
  errorCodes?: number[];
}

const DEFAULT_OVERSIZED_BYTES = 2 * 1024 * 1024;
const MAX_OVERSIZED_BYTES = 256 * 1024 * 1024;
const DEFAULT_CODES: Readonly<Record<number, number>> = { 429: 90055 };
const NO_STORE = { "Cache-Control": "no-store, no-cache", Pragma: "no-cache" };

interface LiveRule {
  readonly rule: FaultRule;
  hits: number;
  removed: boolean;
}

/** The rules, in order, and the choice of a fault for each request. */
export class FaultInjector implements Faults {
  #rules: LiveRule[] = [];

  /** @param sameTenant whether a path segment names the tenant of a rule (id or domain). */
  constructor(private readonly sameTenant: (segment: string, tenant: string) => boolean) {}

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
      if (!this.matches(rule.match ?? {}, target)) continue;
      if (rule.probability !== undefined && Math.random() >= rule.probability) continue;
      live.hits += 1;
      return rule.fault;
    }
    return undefined;
  }

  private matches(match: FaultMatch, target: FaultTarget): boolean {
    const { path } = match;
    if (path === undefined ? !target.tokenEndpoint : typeof path === "string" ? path !== target.path : !path.test(target.path)) return false;
    if (match.method !== undefined && match.method.toUpperCase() !== target.method.toUpperCase()) return false;
    if (match.tenant !== undefined && (target.tenant === undefined || !this.sameTenant(target.tenant, match.tenant))) return false;
    if (match.clientId !== undefined && (target.clientId === undefined || target.clientId.toLowerCase() !== match.clientId.toLowerCase())) return false;
    return true;
  }
}

/**
 * Answers a request as `fault` says. Returns what was sent, or undefined when the
 * normal answer should follow (latency, wrong content type).
 */
export async function applyFault(fault: Fault, context: FaultContext): Promise<FaultAnswer | undefined> {
  const { request, response } = context;
  switch (fault.kind) {
    case "status": {
      const code = fault.aadsts ?? DEFAULT_CODES[fault.status] ?? (fault.status >= 500 ? 90033 : 9002313);
      const failure = new AadstsFailure(code, `${AADSTS_CODES[code]?.summary ?? "Error"} (Injected by the daemon-auth emulator's fault rules.)`);
      const { body } = errorResponse(failure, context);
      if (fault.aadsts === undefined) body.error = fault.status === 429 || fault.status === 503 ? "temporarily_unavailable" : fault.status >= 500 ? "server_error" : "invalid_request";
      const headers: OutgoingHttpHeaders = { ...NO_STORE, "x-ms-request-id": body.trace_id, "client-request-id": context.correlationId, ...retryAfterHeader(fault.retryAfter) };
      send(response, fault.status, "application/json; charset=utf-8", JSON.stringify(body), headers);
      return { status: fault.status, errorCodes: body.error_codes };
    }
    case "latency":
      return (await closedWithin(response, fault.ms)) ? { status: 0 } : undefined;
    case "hang":
      await closedWithin(response, Infinity);
      return { status: 0 };
    case "reset":
      try {
        request.socket.resetAndDestroy();
      } catch {
        // A TLS socket has no TCP handle of its own to reset: close it abruptly instead.
        request.socket.destroy();
      }
      return { status: 0 };
    case "malformed-json":
      send(response, 200, "application/json; charset=utf-8", '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ');
      return { status: 200 };
    case "html": {
      const status = fault.status ?? 502;
      send(response, status, "text/html; charset=utf-8", htmlPage(`${status} ${STATUS_CODES[status] ?? "Error"}`, "The upstream server did not answer (injected by the daemon-auth emulator)."), retryAfterHeader(fault.retryAfter));
      return { status };
    }
    case "oversized": {
      const bytes = fault.bytes ?? DEFAULT_OVERSIZED_BYTES;
      const head = '{"token_type":"Bearer","expires_in":3599,"access_token":"';
      const padding = Math.max(0, bytes - head.length - 2);
      // Chunked (no Content-Length): a client has to cap the body while reading it.
      response.writeHead(200, { "Content-Type": "application/json; charset=utf-8", ...NO_STORE });
      response.end(`${head}${"A".repeat(padding)}"}`);
      return { status: 200 };
    }
    case "wrong-content-type": {
      const contentType = fault.contentType ?? "text/plain; charset=utf-8";
      const writeHead = response.writeHead.bind(response) as (status: number, headers?: OutgoingHttpHeaders) => ServerResponse;
      // The route answers as usual; only the Content-Type it sets is replaced.
      response.writeHead = ((status: number, headers: OutgoingHttpHeaders = {}) => {
        const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== "content-type"));
        return writeHead(status, { ...kept, "Content-Type": contentType });
      }) as ServerResponse["writeHead"];
      return undefined;
    }
  }
}

/** RFC 9110 §10.2.3: delay-seconds, or an HTTP-date. */
function retryAfterHeader(retryAfter: number | Date | undefined): OutgoingHttpHeaders {
  if (retryAfter === undefined) return {};
  return { "Retry-After": typeof retryAfter === "number" ? String(retryAfter) : retryAfter.toUTCString() };
}

function send(response: ServerResponse, status: number, contentType: string, text: string, headers: OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** Waits `ms` or until the connection closes; true when it closed. */
function closedWithin(response: ServerResponse, ms: number): Promise<boolean> {
  if (response.destroyed || response.socket?.destroyed === true) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
          response.off("close", onClose);
          resolve(false);
        }, ms)
      : undefined;
    response.once("close", onClose);
  });
}

/**
 * The client id of a token request without validating it: the Basic user, the
 * form's `client_id`, or the client assertion's `sub` (RFC 7523: the client id).
 */
export function tokenRequestClientId(form: URLSearchParams, authorization: string | undefined): string | undefined {
  if (authorization !== undefined) {
    try {
      return parseBasic(authorization).clientId;
    } catch {
      // A malformed header is the token endpoint's to refuse.
    }
  }
  const clientId = form.get("client_id");
  if (clientId !== null && clientId !== "") return clientId;
  const assertion = form.get("client_assertion");
  if (assertion === null) return undefined;
  try {
    const { sub, iss } = decodeJwt(assertion);
    return sub ?? iss;
  } catch {
    return undefined;
  }
}

/** Counts identical token requests in a sliding window (Entra's loop detection). */
export class LoopDetector {
  #options: LoopDetectionOptions | undefined;
  readonly #seen = new Map<string, number[]>();

  constructor(options: LoopDetectionOptions | undefined) {
    this.configure(options);
  }

  /** Turns loop detection on with new limits, or off with undefined. Forgets what was counted. */
  configure(options: LoopDetectionOptions | undefined): void {
    this.#options = options === undefined ? undefined : validateLoopDetection(options, "loopDetection");
    this.#seen.clear();
  }

  /** Counts a request for `key` at `now`; true when it is one too many. */
  tooMany(key: string, now: number): boolean {
    const options = this.#options;
    if (options === undefined) return false;
    const since = now - options.windowMs;
    const times = (this.#seen.get(key) ?? []).filter((at) => at > since);
    times.push(now);
    this.#seen.set(key, times);
    // Keys of clients that stopped asking would otherwise be kept forever.
    if (this.#seen.size > 10_000) {
      for (const [other, seen] of this.#seen) if (seen.every((at) => at <= since)) this.#seen.delete(other);
    }
    return times.length > options.maxRequests;
  }
}

/** The AADSTS50196 failure loop detection answers with. */
export function loopDetected(): AadstsFailure {
  return new AadstsFailure(
    50196,
    "The server terminated an operation because it encountered a client request loop. Please contact your app vendor. (The same client asked for the same token too often: cache tokens.)",
  );
}

const FAULT_KINDS: readonly FaultKind[] = ["status", "latency", "hang", "reset", "malformed-json", "html", "oversized", "wrong-content-type"];

type Json = Record<string, unknown>;

function object(value: unknown, field: string, known: readonly string[]): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new EmulatorConfigError(field, "expected an object.");
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new EmulatorConfigError(`${field}.${key}`, `unknown field; known fields: ${known.join(", ")}.`);
  }
  return value as Json;
}

function integer(value: unknown, field: string, min: number, max: number, hint: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) throw new EmulatorConfigError(field, `expected ${hint}, got ${JSON.stringify(value)}.`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new EmulatorConfigError(field, "expected a non-empty string.");
  return value;
}

function validateRetryAfter(value: unknown, field: string): number | Date | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value);
  return integer(value, field, 0, Number.MAX_SAFE_INTEGER, "seconds (a whole number), a Date or a date string");
}

function validateFault(value: unknown, field: string): Fault {
  const kind = (value as Json | null)?.kind;
  if (typeof kind !== "string" || !FAULT_KINDS.includes(kind as FaultKind)) {
    throw new EmulatorConfigError(`${field}.kind`, `expected one of ${FAULT_KINDS.join(", ")}.`);
  }
  switch (kind as FaultKind) {
    case "status": {
      const raw = object(value, field, ["kind", "status", "retryAfter", "aadsts"]);
      const fault: Fault = { kind: "status", status: integer(raw.status, `${field}.status`, 400, 599, "an HTTP error status (400 to 599)") };
      if (raw.aadsts !== undefined) fault.aadsts = integer(raw.aadsts, `${field}.aadsts`, 1, Number.MAX_SAFE_INTEGER, "an AADSTS code number");
      const retryAfter = validateRetryAfter(raw.retryAfter, `${field}.retryAfter`);
      if (retryAfter !== undefined) fault.retryAfter = retryAfter;
      return fault;
    }
    case "latency": {
      const raw = object(value, field, ["kind", "ms"]);
      return { kind: "latency", ms: integer(raw.ms, `${field}.ms`, 0, 24 * 3600_000, "milliseconds (a whole number)") };
    }
    case "html": {
      const raw = object(value, field, ["kind", "status", "retryAfter"]);
      const fault: Fault = { kind: "html" };
      if (raw.status !== undefined) fault.status = integer(raw.status, `${field}.status`, 200, 599, "an HTTP status");
      const retryAfter = validateRetryAfter(raw.retryAfter, `${field}.retryAfter`);
      if (retryAfter !== undefined) fault.retryAfter = retryAfter;
      return fault;
    }
    case "oversized": {
      const raw = object(value, field, ["kind", "bytes"]);
      return raw.bytes === undefined ? { kind: "oversized" } : { kind: "oversized", bytes: integer(raw.bytes, `${field}.bytes`, 1, MAX_OVERSIZED_BYTES, "a byte count up to 256 MiB") };
    }
    case "wrong-content-type": {
      const raw = object(value, field, ["kind", "contentType"]);
      const contentType = optionalString(raw.contentType, `${field}.contentType`);
      return contentType === undefined ? { kind: "wrong-content-type" } : { kind: "wrong-content-type", contentType };
    }
    default:
      object(value, field, ["kind"]);
      return { kind } as Fault;
  }
}

/**
 * Checks a fault rule (from code or a JSON config file, where `path` is a string
 * and `retryAfter` a number of seconds or a date string).
 */
export function validateFaultRule(value: unknown, field = "fault"): FaultRule {
  const raw = object(value, field, ["match", "fault", "times", "probability"]);
  const rule: FaultRule = { fault: validateFault(raw.fault, `${field}.fault`) };
  if (raw.match !== undefined) {
    const match = object(raw.match, `${field}.match`, ["path", "method", "tenant", "clientId"]);
    const checked: FaultMatch = {};
    if (match.path instanceof RegExp) checked.path = match.path;
    else if (match.path !== undefined) checked.path = optionalString(match.path, `${field}.match.path`) as string;
    for (const name of ["method", "tenant", "clientId"] as const) {
      const text = optionalString(match[name], `${field}.match.${name}`);
      if (text !== undefined) checked[name] = text;
    }
    rule.match = checked;
  }
  if (raw.times !== undefined) rule.times = integer(raw.times, `${field}.times`, 1, Number.MAX_SAFE_INTEGER, "a positive whole number");
  if (raw.probability !== undefined) {
    if (typeof raw.probability !== "number" || !(raw.probability >= 0 && raw.probability <= 1)) {
      throw new EmulatorConfigError(`${field}.probability`, "expected a number from 0 to 1.");
    }
    rule.probability = raw.probability;
  }
  return rule;
}

/** Checks loop detection settings. */
export function validateLoopDetection(value: unknown, field = "loopDetection"): LoopDetectionOptions {
  const raw = object(value, field, ["maxRequests", "windowMs"]);
  return {
    maxRequests: integer(raw.maxRequests, `${field}.maxRequests`, 1, Number.MAX_SAFE_INTEGER, "a positive whole number"),
    windowMs: integer(raw.windowMs, `${field}.windowMs`, 1, Number.MAX_SAFE_INTEGER, "a positive whole number of milliseconds"),
  };
}

// Fault injection as a step around the routes: the first live rule matching the
// request answers instead of the route (errors, broken bodies), holds it
// (latency, hang), drops it (reset) or changes the route's answer.
import { STATUS_CODES } from "node:http";
import { AADSTS_CODES, AadstsFailure, htmlPage } from "../aadsts.js";
import type { FaultInjector, FaultTarget } from "../lib/faults/injector.js";
import type { Fault } from "../lib/faults/types.js";
import { entraError, NO_STORE, type Answer, type Outcome } from "./answer.js";
import type { Handler, Step } from "./pipeline.js";
import type { EmulatorRequest } from "./request.js";

const DEFAULT_OVERSIZED_BYTES = 2 * 1024 * 1024;
// Entra's code for each injected status when the rule names none; other 5xx get 90033, other 4xx 9002313.
const DEFAULT_CODES: Readonly<Record<number, number>> = { 429: 90055 };
const JSON_TYPE = "application/json; charset=utf-8";

/** The fault step: picks a rule for each request the route does not exempt. */
export function faultStep(injector: FaultInjector): Step {
  return async (request, next, route) => {
    const target = route.faultTarget === undefined ? defaultTarget(request) : await route.faultTarget(request);
    if (target === undefined) return next(request);
    const fault = injector.pick({ ...target, method: request.method, path: request.pathname, region: request.region });
    if (fault === undefined) return next(request);
    request.note({ fault: fault.kind });
    return applyFault(fault, request, next);
  };
}

/** Outside the token endpoint, rules match the path's first segment as the tenant and a `client_id` query parameter. */
function defaultTarget(request: EmulatorRequest): FaultTarget {
  return { method: request.method, path: request.pathname, tokenEndpoint: false, tenant: request.segments[0], clientId: request.query.get("client_id") ?? undefined, region: request.region };
}

async function applyFault(fault: Fault, request: EmulatorRequest, next: Handler): Promise<Outcome> {
  switch (fault.kind) {
    case "status": {
      const code = fault.aadsts ?? DEFAULT_CODES[fault.status] ?? (fault.status >= 500 ? 90033 : 9002313);
      const failure = new AadstsFailure(code, `${AADSTS_CODES[code]?.summary ?? "Error"} (Injected by the daemon-auth emulator's fault rules.)`);
      const error = fault.aadsts !== undefined ? undefined : fault.status === 429 || fault.status === 503 ? "temporarily_unavailable" : fault.status >= 500 ? "server_error" : "invalid_request";
      const answer = entraError(failure, request, {
        headers: { "client-request-id": request.correlationId, ...retryAfterHeader(fault.retryAfter) },
        ...(error === undefined ? {} : { error }),
      });
      return { ...answer, status: fault.status };
    }
    case "latency":
      return (await clientLeftWithin(request, fault.ms)) ? { dropped: "client-left" } : next(request);
    case "hang":
      await request.clientLeft;
      return { dropped: "client-left" };
    case "reset":
      return { dropped: "reset" };
    case "malformed-json":
      return { status: 200, headers: { "Content-Type": JSON_TYPE }, body: '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ' };
    case "html": {
      const status = fault.status ?? 502;
      const page = htmlPage(`${status} ${STATUS_CODES[status] ?? "Error"}`, "The upstream server did not answer (injected by the daemon-auth emulator).");
      return { status, headers: { "Content-Type": "text/html; charset=utf-8", ...retryAfterHeader(fault.retryAfter) }, body: page };
    }
    case "oversized": {
      const bytes = fault.bytes ?? DEFAULT_OVERSIZED_BYTES;
      const head = '{"token_type":"Bearer","expires_in":3599,"access_token":"';
      const padding = Math.max(0, bytes - head.length - 2);
      return { status: 200, headers: { "Content-Type": JSON_TYPE, ...NO_STORE }, body: `${head}${"A".repeat(padding)}"}`, chunked: true };
    }
    case "wrong-content-type": {
      const outcome = await next(request);
      return "status" in outcome ? withContentType(outcome, fault.contentType ?? "text/plain; charset=utf-8") : outcome;
    }
  }
}

function withContentType(answer: Answer, contentType: string): Answer {
  const kept = Object.entries(answer.headers).filter(([name]) => name.toLowerCase() !== "content-type");
  return { ...answer, headers: { ...Object.fromEntries(kept), "Content-Type": contentType } };
}

/** RFC 9110 §10.2.3: delay-seconds, or an HTTP-date. */
function retryAfterHeader(retryAfter: number | Date | undefined): Record<string, string> {
  if (retryAfter === undefined) return {};
  return { "Retry-After": typeof retryAfter === "number" ? String(retryAfter) : retryAfter.toUTCString() };
}

/** Waits `ms` or until the client leaves; true when it left. */
async function clientLeftWithin(request: EmulatorRequest, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([request.clientLeft.then(() => true), elapsed]);
  } finally {
    clearTimeout(timer);
  }
}

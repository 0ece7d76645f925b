import type { TelemetryHooks, TokenSource } from "@daemon-auth/core";
import { Counter, Histogram, Registry } from "prom-client";

/** How a request to the sidecar ended; the `outcome` label of the request counter and the access log. */
export type RequestOutcome =
  | "ok"
  | "unauthorized"
  | "forbidden"
  | "scope_not_allowed"
  | "tenant_not_allowed"
  | "identity_not_served"
  | "bad_request"
  | "not_found"
  | "method_not_allowed"
  | "upstream_refused"
  | "throttled"
  | "upstream_unavailable"
  | "error";

/** The sidecar's Prometheus metrics, in a registry of its own (never the global one). */
export interface SidecarMetrics {
  readonly registry: Registry;
  request(endpoint: string, outcome: RequestOutcome): void;
  tokenServed(source: TokenSource): void;
  /** The hook that feeds the upstream figures from core. */
  readonly telemetry: Required<Pick<TelemetryHooks, "onTokenRequest">>;
}

/**
 * Creates the metrics. `aadstsCode(correlationId)` names the AADSTS code of a refused
 * token request, if any (core's telemetry event carries the status, not the body).
 */
export function createSidecarMetrics(aadstsCode: (correlationId: string) => string | undefined): SidecarMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "daemon_auth_sidecar_requests_total",
    help: "Requests answered by the sidecar, by endpoint and outcome.",
    labelNames: ["endpoint", "outcome"] as const,
    registers: [registry],
  });
  const served = new Counter({
    name: "daemon_auth_sidecar_tokens_served_total",
    help: "Tokens handed out, by where they came from: cache (in-process), shared-cache (Redis) or network (a token request).",
    labelNames: ["source"] as const,
    registers: [registry],
  });
  const upstream = new Counter({
    name: "daemon_auth_sidecar_upstream_requests_total",
    help: "Token endpoint requests, by HTTP status (0 = no response) and AADSTS code (none when the answer carried none).",
    labelNames: ["status", "aadsts"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "daemon_auth_sidecar_upstream_duration_seconds",
    help: "Duration of token endpoint requests, in seconds.",
    labelNames: ["status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Label children looked up once: prom-client hashes the label set on every inc otherwise,
  // a cost each cache hit would pay twice.
  const requestChildren = new Map<string, { inc(): void }>();
  const servedChildren = new Map<TokenSource, { inc(): void }>();
  return {
    registry,
    request(endpoint, outcome) {
      const key = `${endpoint} ${outcome}`;
      let child = requestChildren.get(key);
      if (child === undefined) requestChildren.set(key, (child = requests.labels({ endpoint, outcome })));
      child.inc();
    },
    tokenServed(source) {
      let child = servedChildren.get(source);
      if (child === undefined) servedChildren.set(source, (child = served.labels({ source })));
      child.inc();
    },
    telemetry: {
      onTokenRequest(event) {
        const status = String(event.status ?? 0);
        upstream.inc({ status, aadsts: aadstsCode(event.correlationId) ?? "none" });
        latency.observe({ status }, event.durationMs / 1000);
      },
    },
  };
}

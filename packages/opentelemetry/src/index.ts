/**
 * `@daemon-auth/opentelemetry`: a daemon-auth client's telemetry hooks, wired to
 * OpenTelemetry metrics and spans. Depends on `@opentelemetry/api` only; the SDK and
 * exporters are the application's.
 *
 * @example
 * import { createOpenTelemetryHooks } from "@daemon-auth/opentelemetry";
 * const client = createDaemonClient({ ...options, telemetry: createOpenTelemetryHooks() });
 */
import {
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type MeterProvider,
  type TracerProvider,
} from "@opentelemetry/api";
import type { AcquireErrorEvent, TelemetryHooks, TokenRequestEvent, TokenSource } from "@daemon-auth/core";

const SCOPE = "@daemon-auth/opentelemetry";
const VERSION = "0.1.0";

/** Options of {@link createOpenTelemetryHooks}. */
export interface OpenTelemetryHooksOptions {
  /**
   * Where the metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider;
  /**
   * Where the token request spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   */
  tracerProvider?: TracerProvider;
}

/**
 * The metric names. Where MSAL.NET's built-in metrics (meter
 * `MicrosoftIdentityClient_Common_Meter`) have an equivalent, the same name, unit and
 * attribute names (`TokenSource`, `CacheLevel`, `ErrorCode`), so dashboards carry over.
 */
export const METRIC_NAMES = {
  /**
   * Counter (observable: counted in process, read at each collection, so a cache hit
   * costs no SDK call): successful acquisitions. MSAL.NET's name; plus `daemon_auth.token.source`.
   */
  success: "MsalSuccess",
  /** Counter: failed acquisitions, by `ErrorCode` (core's error code) and AADSTS code. MSAL.NET's name. */
  failure: "MsalFailure",
  /** Histogram (ms): duration of every successful acquisition, by `TokenSource` and `CacheLevel`. MSAL.NET's name. */
  totalDuration: "MsalTotalDuration.1A",
  /** Histogram (µs): duration of acquisitions answered from the in-process cache (no attributes: each point is one). MSAL.NET's name. */
  durationInL1Cache: "MsalDurationInL1CacheInUs.1B",
  /** Histogram (ms): duration of acquisitions answered from the shared store (no attributes: each point is one). MSAL.NET's name. */
  durationInL2Cache: "MsalDurationInL2Cache.1A",
  /** Histogram (ms): duration of each successful token endpoint round trip. MSAL.NET's name. */
  durationInHttp: "MsalDurationInHttp.1A",
  /** Counter: token endpoint round trips, by status, error type and AADSTS code. */
  tokenRequests: "daemon_auth.token_requests",
  /** Counter: failed shared store calls, by operation and store. */
  storeErrors: "daemon_auth.store.errors",
  /** Counter: background refreshes, by phase (`started`, `succeeded`, `failed`). */
  backgroundRefreshes: "daemon_auth.background_refreshes",
  /** Histogram (s): time until expiry of each token served, whatever answered it (no attributes). */
  timeToExpiry: "daemon_auth.token.time_to_expiry",
} as const;

const TOKEN_SOURCES: readonly TokenSource[] = ["cache", "shared-cache", "network"];
const NO_ATTRIBUTES: Attributes = Object.freeze({});

/** MSAL.NET's `TokenSource` and `CacheLevel` values for each of core's sources. */
const MSAL_SOURCE: Readonly<Record<TokenSource, Readonly<{ TokenSource: string; CacheLevel: string }>>> = {
  cache: { TokenSource: "Cache", CacheLevel: "L1Cache" },
  "shared-cache": { TokenSource: "Cache", CacheLevel: "L2Cache" },
  network: { TokenSource: "IdentityProvider", CacheLevel: "None" },
};

/**
 * Telemetry hooks that record daemon-auth's metrics and a client span per token request
 * (HTTP client semantic conventions: `http.request.method`, `server.address`,
 * `server.port`, `url.full` without a query, `http.response.status_code`, `error.type`,
 * `http.request.resend_count`). No attribute ever holds a token, a secret, an assertion
 * or a server's text: only statuses, codes, hosts, durations and the correlation id.
 *
 * @example
 * const client = createDaemonClient({ ...options, telemetry: createOpenTelemetryHooks({ meterProvider, tracerProvider }) });
 */
export function createOpenTelemetryHooks(options: OpenTelemetryHooksOptions = {}): TelemetryHooks {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE, VERSION);
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE, VERSION);
  const failure = meter.createCounter(METRIC_NAMES.failure, { description: "Number of failed token acquisition calls" });
  const totalDuration = meter.createHistogram(METRIC_NAMES.totalDuration, { unit: "ms", description: "Token acquisition latency" });
  const inL1 = meter.createHistogram(METRIC_NAMES.durationInL1Cache, { unit: "us", description: "Token acquisition latency from the in-process cache" });
  const inL2 = meter.createHistogram(METRIC_NAMES.durationInL2Cache, { unit: "ms", description: "Token acquisition latency from the shared store" });
  const inHttp = meter.createHistogram(METRIC_NAMES.durationInHttp, { unit: "ms", description: "Token endpoint round trip latency" });
  const tokenRequests = meter.createCounter(METRIC_NAMES.tokenRequests, { description: "Token endpoint round trips" });
  const storeErrors = meter.createCounter(METRIC_NAMES.storeErrors, { description: "Failed shared token store calls" });
  const refreshes = meter.createCounter(METRIC_NAMES.backgroundRefreshes, { description: "Proactive token refreshes in the background" });
  const timeToExpiry = meter.createHistogram(METRIC_NAMES.timeToExpiry, { unit: "s", description: "Time until expiry of each token served" });
  // The SDK hashes a recorded attribute set on every call (~1 µs, several times a cache
  // hit's own cost) and skips that for an empty one. So a hit records one attributed
  // point (its total duration); successes are counted here and read at collection, and
  // the histograms whose points all share one source carry no attributes.
  const successes: Record<TokenSource, number> = { cache: 0, "shared-cache": 0, network: 0 };
  meter.createObservableCounter(METRIC_NAMES.success, { description: "Number of successful token acquisition calls" }).addCallback((result) => {
    for (const source of TOKEN_SOURCES) {
      if (successes[source] > 0) result.observe(successes[source], { ...MSAL_SOURCE[source], "daemon_auth.token.source": source });
    }
  });

  return {
    onAcquire(event) {
      const source = event.source;
      successes[source] += 1;
      totalDuration.record(event.durationMs, MSAL_SOURCE[source]);
      if (source === "cache") inL1.record(event.durationMs * 1000, NO_ATTRIBUTES);
      else if (source === "shared-cache") inL2.record(event.durationMs, NO_ATTRIBUTES);
      timeToExpiry.record((event.expiresOnTimestamp - Date.now()) / 1000, NO_ATTRIBUTES);
    },
    onAcquireError(event: AcquireErrorEvent) {
      failure.add(1, { ErrorCode: event.errorCode, "error.type": event.errorCode, ...aadsts(event.errorCodes) });
    },
    onTokenRequest(event: TokenRequestEvent) {
      const endpoint = parseEndpoint(event.tokenEndpoint);
      const attributes: Attributes = {
        "http.request.method": "POST",
        "server.address": endpoint.host,
        "server.port": endpoint.port,
        ...(event.status === undefined ? {} : { "http.response.status_code": event.status }),
        ...(event.errorCode === undefined ? {} : { "error.type": event.errorCode }),
        ...aadsts(event.errorCodes ?? []),
      };
      tokenRequests.add(1, attributes);
      if (event.errorCode === undefined) inHttp.record(event.durationMs, { "server.address": endpoint.host });
      const end = Date.now();
      const span = tracer.startSpan("POST", {
        kind: SpanKind.CLIENT,
        startTime: end - event.durationMs,
        attributes: {
          ...attributes,
          "url.full": endpoint.url,
          "http.request.resend_count": event.attempt - 1,
          "daemon_auth.attempt": event.attempt,
          "daemon_auth.correlation_id": event.correlationId,
          ...(event.error === undefined ? {} : { "daemon_auth.oauth.error": oauthError(event.error) }),
        },
      });
      if (event.errorCode !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(end);
    },
    onStoreError(event) {
      storeErrors.add(1, {
        "daemon_auth.store.operation": event.operation,
        "daemon_auth.store.name": event.store ?? "unnamed",
        "error.type": event.errorCode,
      });
    },
    onBackgroundRefresh(event) {
      refreshes.add(1, { "daemon_auth.refresh.phase": event.phase, ...(event.errorCode === undefined ? {} : { "error.type": event.errorCode }) });
    },
  };
}

/** The AADSTS codes as one low-cardinality attribute, e.g. `"AADSTS7000215"`. */
function aadsts(codes: readonly number[]): Attributes {
  return codes.length === 0 ? {} : { "daemon_auth.error.aadsts": codes.map((code) => `AADSTS${String(code)}`).join(",") };
}

/** The OAuth 2.0 `error` only in its protocol shape: a server's free text never becomes an attribute. */
function oauthError(error: string): string {
  return /^[a-z_]{1,64}$/.test(error) ? error : "unrecognised";
}

const endpoints = new Map<string, { host: string; port: number; url: string }>();

/** Host, port and the URL without its query (which may carry client-chosen parameters), parsed once per endpoint. */
function parseEndpoint(tokenEndpoint: string): { host: string; port: number; url: string } {
  let parsed = endpoints.get(tokenEndpoint);
  if (parsed === undefined) {
    const url = new URL(tokenEndpoint);
    const port = url.port === "" ? (url.protocol === "http:" ? 80 : 443) : Number(url.port);
    parsed = { host: url.hostname, port, url: `${url.origin}${url.pathname}` };
    if (endpoints.size < 1_000) endpoints.set(tokenEndpoint, parsed);
  }
  return parsed;
}

// The OpenTelemetry hooks against the real client and the emulator, read back through the
// SDK's in-memory exporters: exact counts after a known sequence of misses, hits, a shared
// store hit and a failure, HTTP client span attributes, and no token or secret anywhere.
import { createDaemonClient, type DaemonClient, type TokenCacheStore } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenTelemetryHooks, METRIC_NAMES } from "../src/index.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
});
afterAll(async () => {
  await emulator.close();
});

/** A shared store two clients use, standing in for two processes. */
function mapStore(): TokenCacheStore {
  const data = new Map<string, string>();
  return {
    name: "map",
    get: (key) => Promise.resolve(data.get(key)),
    set: (key, value) => Promise.resolve(void data.set(key, value)),
    delete: (key) => Promise.resolve(void data.delete(key)),
  };
}

function otel() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    hooks: createOpenTelemetryHooks({ meterProvider, tracerProvider }),
    spans: () => spanExporter.getFinishedSpans(),
    /** Every data point of every instrument, by instrument name. */
    async points(): Promise<Map<string, DataPoint<unknown>[]>> {
      await reader.forceFlush();
      const points = new Map<string, DataPoint<unknown>[]>();
      for (const resource of metricExporter.getMetrics().slice(-1)) {
        for (const scope of resource.scopeMetrics) {
          for (const metric of scope.metrics) points.set(metric.descriptor.name, metric.dataPoints);
        }
      }
      return points;
    },
    shutdown: () => Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]),
  };
}

/** The sum of a counter's points whose attributes include `where`. */
function total(points: DataPoint<unknown>[] | undefined, where: Record<string, unknown> = {}): number {
  return (points ?? [])
    .filter((point) => Object.entries(where).every(([key, value]) => point.attributes[key] === value))
    .reduce((sum, point) => sum + (typeof point.value === "number" ? point.value : (point.value as Histogram).count), 0);
}

describe("createOpenTelemetryHooks", () => {
  it("counts a known sequence of misses, hits, a shared-store hit and a failure exactly, with HTTP client spans and no secret", async () => {
    const telemetry = otel();
    const store = mapStore();
    const options = {
      authority: emulator.authority(ids.tenantId),
      clientId: ids.daemonClientId,
      credential: clientSecret(ids.daemonClientSecret),
      cache: store,
      telemetry: telemetry.hooks,
      retry: { maxAttempts: 1 },
    };
    const clients: DaemonClient[] = [createDaemonClient(options), createDaemonClient(options)];
    const [first, second] = clients as [DaemonClient, DaemonClient];
    try {
      const tokens: string[] = [];
      const network = await first.acquireTokenForClient({ scopes: [ids.apiScope] }); // miss: 1 request
      tokens.push(network.accessToken);
      for (let i = 0; i < 3; i++) tokens.push((await first.acquireTokenForClient({ scopes: [ids.apiScope] })).accessToken); // 3 hits
      tokens.push((await second.acquireTokenForClient({ scopes: [ids.apiScope] })).accessToken); // from the store
      emulator.faults.add({ fault: { kind: "status", status: 400, aadsts: 70011 }, times: 1 });
      // A key with no valid token: the failure is the caller's (a held token would be served instead).
      const failure = await first.acquireTokenForClient({ scopes: ["api://daemon-auth-other/.default"] }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: "ERR_SERVER" });

      const points = await telemetry.points();
      expect(total(points.get(METRIC_NAMES.success), { TokenSource: "IdentityProvider", CacheLevel: "None", "daemon_auth.token.source": "network" })).toBe(1);
      expect(total(points.get(METRIC_NAMES.success), { TokenSource: "Cache", CacheLevel: "L1Cache", "daemon_auth.token.source": "cache" })).toBe(3);
      expect(total(points.get(METRIC_NAMES.success), { TokenSource: "Cache", CacheLevel: "L2Cache", "daemon_auth.token.source": "shared-cache" })).toBe(1);
      expect(total(points.get(METRIC_NAMES.success))).toBe(5);
      expect(total(points.get(METRIC_NAMES.failure), { ErrorCode: "ERR_SERVER", "daemon_auth.error.aadsts": "AADSTS70011" })).toBe(1);
      expect(total(points.get(METRIC_NAMES.totalDuration))).toBe(5);
      expect(total(points.get(METRIC_NAMES.totalDuration), { TokenSource: "Cache", CacheLevel: "L1Cache" })).toBe(3);
      expect(total(points.get(METRIC_NAMES.totalDuration), { TokenSource: "Cache", CacheLevel: "L2Cache" })).toBe(1);
      expect(total(points.get(METRIC_NAMES.totalDuration), { TokenSource: "IdentityProvider", CacheLevel: "None" })).toBe(1);
      // Histograms whose points all share one source carry no attributes (the SDK hashes none).
      for (const name of [METRIC_NAMES.durationInL1Cache, METRIC_NAMES.durationInL2Cache, METRIC_NAMES.timeToExpiry]) {
        expect(points.get(name)?.map((point) => point.attributes)).toEqual([{}]);
      }
      // Served tokens are ~1 h from expiry (the emulator's lifetime), hits included.
      const expiry = points.get(METRIC_NAMES.timeToExpiry)?.[0]?.value as Histogram | undefined;
      expect(expiry?.min).toBeGreaterThan(3_500);
      expect(expiry?.max).toBeLessThanOrEqual(3_600);
      expect(total(points.get(METRIC_NAMES.durationInL1Cache))).toBe(3);
      expect(total(points.get(METRIC_NAMES.durationInL2Cache))).toBe(1);
      expect(total(points.get(METRIC_NAMES.durationInHttp))).toBe(1);
      expect(total(points.get(METRIC_NAMES.timeToExpiry))).toBe(5);
      expect(total(points.get(METRIC_NAMES.tokenRequests), { "http.response.status_code": 200 })).toBe(1);
      expect(total(points.get(METRIC_NAMES.tokenRequests), { "http.response.status_code": 400, "error.type": "ERR_SERVER", "daemon_auth.error.aadsts": "AADSTS70011" })).toBe(1);
      expect(total(points.get(METRIC_NAMES.tokenRequests))).toBe(2);
      expect(emulator.tokenRequestCount()).toBe(2);

      const spans = telemetry.spans();
      const endpoint = new URL(emulator.tokenEndpoint(ids.tenantId));
      expect(spans.map((span) => [span.name, span.attributes["http.response.status_code"], span.status.code])).toEqual([
        ["POST", 200, 0],
        ["POST", 400, 2],
      ]);
      for (const span of spans) {
        expect(span.kind).toBe(2); // SpanKind.CLIENT
        expect(span.attributes).toMatchObject({
          "http.request.method": "POST",
          "server.address": endpoint.hostname,
          "server.port": Number(endpoint.port),
          "url.full": `${endpoint.origin}${endpoint.pathname}`,
          "http.request.resend_count": 0,
          "daemon_auth.attempt": 1,
        });
        expect(span.attributes["daemon_auth.correlation_id"]).toMatch(/^[0-9a-f-]{36}$/);
      }
      expect(spans[1]?.attributes["error.type"]).toBe("ERR_SERVER");

      // Nothing secret in anything exported.
      const exported = JSON.stringify([...points.values()].flat().map((point) => point.attributes)) + JSON.stringify(spans.map((span) => span.attributes));
      for (const secret of [ids.daemonClientSecret, ...tokens]) expect(exported).not.toContain(secret);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
      await telemetry.shutdown();
    }
  });

  it("counts each failed store call by operation and store", async () => {
    const telemetry = otel();
    const broken: TokenCacheStore = { name: "broken", get: () => Promise.reject(new Error("down")), set: () => Promise.reject(new Error("down")), delete: () => Promise.resolve() };
    const client = createDaemonClient({
      authority: emulator.authority(ids.tenantId),
      clientId: ids.daemonClientId,
      credential: clientSecret(ids.daemonClientSecret),
      cache: broken,
      telemetry: telemetry.hooks,
    });
    try {
      await client.acquireTokenForClient({ scopes: [ids.apiScope] });
      const points = await telemetry.points();
      // The entry read, the fleet's failure marker read (no lock on this store), the write.
      expect(total(points.get(METRIC_NAMES.storeErrors), { "daemon_auth.store.operation": "get", "daemon_auth.store.name": "broken" })).toBe(2);
      expect(total(points.get(METRIC_NAMES.storeErrors), { "daemon_auth.store.operation": "set" })).toBe(1);
    } finally {
      await client.dispose();
      await telemetry.shutdown();
    }
  });
});

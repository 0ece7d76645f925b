import { createOpenTelemetryHooks } from "@daemon-auth/opentelemetry";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ourClient } from "./clients.js";
import { createFakeNetwork } from "./fake-network.js";
import { median, microsPerCall } from "./measure.js";
import { ourHit, settle, type BenchSizes, type Figure } from "./scenarios.js";

/**
 * Scenario 1 with telemetry on: the one-tenant cache hit of a client wired to
 * `@daemon-auth/opentelemetry`, once with the OpenTelemetry SDK's meter and tracer providers
 * and in-memory exporters (a metric reader that exports once an hour, so the figure is the
 * cost of recording, not of exporting), once with the API's no-op providers (no SDK
 * registered), beside the same client without telemetry; the three take turns in slices of
 * the same run.
 */
export async function cacheHitWithTelemetry(sizes: BenchSizes): Promise<Figure[]> {
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
  const network = createFakeNetwork();
  const clients = {
    sdk: ourClient(network, undefined, createOpenTelemetryHooks({ meterProvider, tracerProvider })),
    noop: ourClient(network, undefined, createOpenTelemetryHooks()),
    off: ourClient(network),
  };
  const modes = ["sdk", "noop", "off"] as const;
  try {
    const calls = { sdk: ourHit(clients.sdk), noop: ourHit(clients.noop), off: ourHit(clients.off) };
    const runs = { sdk: [] as number[], noop: [] as number[], off: [] as number[] };
    const iterations = Math.max(10, Math.floor(sizes.hitIterations / 2));
    for (const mode of modes) {
      await calls[mode](undefined);
      await microsPerCall(iterations, () => calls[mode](undefined));
    }
    await settle();
    for (let slice = 0; slice < sizes.repetitions * 2; slice++) {
      // Each mode goes first in turn.
      for (let m = 0; m < modes.length; m++) {
        const mode = modes[(slice + m) % modes.length] ?? "off";
        runs[mode].push(await microsPerCall(iterations, () => calls[mode](undefined)));
      }
    }
    const off = median(runs.off);
    const figure = (mode: "sdk" | "noop", scenario: string, how: string): Figure => {
      const on = median(runs[mode]);
      return {
        scenario,
        unit: "µs/call",
        ours: on,
        msal: undefined,
        identity: undefined,
        note: `${how}; telemetry off in the same run ${off.toFixed(2)} µs (on ÷ off ${(on / off).toFixed(1)}×); the incumbents have no telemetry hooks`,
      };
    };
    return [
      figure("sdk", "cache hit, one tenant, telemetry on (OpenTelemetry SDK)", "@daemon-auth/opentelemetry with the SDK's MeterProvider and BasicTracerProvider, in-memory exporters"),
      figure("noop", "cache hit, one tenant, telemetry on (OpenTelemetry API, no SDK)", "@daemon-auth/opentelemetry with the API's global no-op providers"),
    ];
  } finally {
    await Promise.all(Object.values(clients).map((client) => client.dispose()));
    await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
  }
}

export { runBenchmarks, formatReport, ratio, type BenchReport, type TargetCheck } from "./bench.js";
export { DEFAULT_SIZES, INCUMBENTS, type BenchSizes, type Figure, type Incumbent } from "./scenarios.js";
export { createFakeNetwork, type FakeNetwork, type FakeNetworkOptions } from "./fake-network.js";

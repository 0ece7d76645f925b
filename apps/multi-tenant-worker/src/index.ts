export { readSettings, GRAPH_SCOPE, type Settings } from "./settings.js";
export { TenantRegistry, type TenantRecord, type TenantStatus } from "./registry.js";
export { startConsentReceiver, type ConsentAnswer, type ConsentReceiver } from "./consent-receiver.js";
export { consentUrlFor, onboardTenants, type OnboardingOptions, type OnboardingResult } from "./onboarding.js";
export { runWorker, describeSummary, MAX_CONSECUTIVE_FAILURES, type WorkerOptions, type WorkerSummary } from "./worker.js";
export { runDemo, demoDirectory, demoEmulatorDirectory, demoEnvironment, type DemoOptions, type DemoReport, type DemoTenantReport } from "./demo-run.js";

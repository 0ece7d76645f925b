export { APP_SERVICE_API_VERSION, IDENTITY_HEADER, createSidecar, startSidecar, type RunningSidecar, type Sidecar, type SidecarOptions } from "./sidecar.js";
export { MIN_HEADER_LENGTH, checkHeaderSecret, readOrCreateHeaderFile, type HeaderFile } from "./lib/header-secret.js";
export { isLoopbackHost } from "./lib/guard.js";
export { jsonLinesLog, type SidecarLog, type SidecarLogRecord } from "./lib/log.js";
export type { RequestOutcome } from "./lib/metrics.js";

import type { Logger, LogFields } from "@daemon-auth/core";

/** One log record of the sidecar. Never holds a token, a secret or the header secret. */
export interface SidecarLogRecord {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly msg: string;
  readonly [field: string]: string | number | boolean | undefined;
}

/** Receives the sidecar's log records (access log, lifecycle, core's own records). */
export type SidecarLog = (record: SidecarLogRecord) => void;

/**
 * A {@link SidecarLog} that writes one JSON object per line, with an ISO `time` first,
 * to `write` (e.g. `(line) => process.stderr.write(line)`).
 *
 * @example
 * startSidecar({ ...options, log: jsonLinesLog((line) => process.stderr.write(line)) });
 */
export function jsonLinesLog(write: (line: string) => void): SidecarLog {
  return (record) => write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
}

/** Core's {@link Logger} on top of a {@link SidecarLog}, so core's records join the same stream. */
export function coreLogger(log: SidecarLog): Logger {
  const at =
    (level: SidecarLogRecord["level"]) =>
    (message: string, fields?: LogFields): void =>
      log({ ...fields, level, msg: message });
  return { info: at("info"), warn: at("warn"), error: at("error") };
}

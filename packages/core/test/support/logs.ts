import type { LogFields, Logger } from "../../src/index.js";

/** One captured log call. */
export interface LogLine {
  level: string;
  message: string;
  fields?: LogFields | undefined;
}

/** A logger that keeps every line, for tests that assert what was (or was not) logged. */
export function captureLogs(): { logger: Logger; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const logger = Object.fromEntries(
    ["debug", "info", "warn", "error"].map((level) => [
      level,
      (message: string, fields?: LogFields) => logs.push({ level, message, fields }),
    ]),
  ) as Logger;
  return { logger, logs };
}

// Checks fault rules and loop detection limits, from code or a JSON config file
// (where `path` is a string and `retryAfter` seconds or a date string).
import { EmulatorConfigError, expectInteger, expectObject, optionalString, type Json } from "../../config/error.js";
import type { Fault, FaultKind, FaultMatch, FaultRule, LoopDetectionOptions } from "./types.js";

const FAULT_KINDS: readonly FaultKind[] = ["status", "latency", "hang", "reset", "malformed-json", "html", "oversized", "wrong-content-type"];
/** The largest `oversized` body a rule may ask for. */
export const MAX_OVERSIZED_BYTES = 256 * 1024 * 1024;

function validateRetryAfter(value: unknown, field: string): number | Date | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value);
  return expectInteger(value, field, 0, Number.MAX_SAFE_INTEGER, "seconds (a whole number), a Date or a date string");
}

function validateFault(value: unknown, field: string): Fault {
  const kind = (value as Json | null)?.kind;
  if (typeof kind !== "string" || !FAULT_KINDS.includes(kind as FaultKind)) {
    throw new EmulatorConfigError(`${field}.kind`, `expected one of ${FAULT_KINDS.join(", ")}.`);
  }
  switch (kind as FaultKind) {
    case "status": {
      const raw = expectObject(value, field, ["kind", "status", "retryAfter", "aadsts"]);
      const fault: Fault = { kind: "status", status: expectInteger(raw.status, `${field}.status`, 400, 599, "an HTTP error status (400 to 599)") };
      if (raw.aadsts !== undefined) fault.aadsts = expectInteger(raw.aadsts, `${field}.aadsts`, 1, Number.MAX_SAFE_INTEGER, "an AADSTS code number");
      const retryAfter = validateRetryAfter(raw.retryAfter, `${field}.retryAfter`);
      if (retryAfter !== undefined) fault.retryAfter = retryAfter;
      return fault;
    }
    case "latency": {
      const raw = expectObject(value, field, ["kind", "ms"]);
      return { kind: "latency", ms: expectInteger(raw.ms, `${field}.ms`, 0, 24 * 3600_000, "milliseconds (a whole number)") };
    }
    case "html": {
      const raw = expectObject(value, field, ["kind", "status", "retryAfter"]);
      const fault: Fault = { kind: "html" };
      if (raw.status !== undefined) fault.status = expectInteger(raw.status, `${field}.status`, 200, 599, "an HTTP status");
      const retryAfter = validateRetryAfter(raw.retryAfter, `${field}.retryAfter`);
      if (retryAfter !== undefined) fault.retryAfter = retryAfter;
      return fault;
    }
    case "oversized": {
      const raw = expectObject(value, field, ["kind", "bytes"]);
      return raw.bytes === undefined
        ? { kind: "oversized" }
        : { kind: "oversized", bytes: expectInteger(raw.bytes, `${field}.bytes`, 1, MAX_OVERSIZED_BYTES, "a byte count up to 256 MiB") };
    }
    case "wrong-content-type": {
      const raw = expectObject(value, field, ["kind", "contentType"]);
      const contentType = optionalString(raw.contentType, `${field}.contentType`, "a Content-Type such as text/plain");
      return contentType === undefined ? { kind: "wrong-content-type" } : { kind: "wrong-content-type", contentType };
    }
    default:
      expectObject(value, field, ["kind"]);
      return { kind } as Fault;
  }
}

/**
 * Checks a fault rule (from code or a JSON config file, where `path` is a string
 * and `retryAfter` a number of seconds or a date string).
 */
export function validateFaultRule(value: unknown, field = "fault"): FaultRule {
  const raw = expectObject(value, field, ["match", "fault", "times", "probability"]);
  const rule: FaultRule = { fault: validateFault(raw.fault, `${field}.fault`) };
  if (raw.match !== undefined) {
    const match = expectObject(raw.match, `${field}.match`, ["path", "method", "tenant", "clientId", "region"]);
    const checked: FaultMatch = {};
    if (match.path instanceof RegExp) checked.path = match.path;
    else {
      const path = optionalString(match.path, `${field}.match.path`, "an exact path such as /{tenant}/oauth2/v2.0/token, or a RegExp");
      if (path !== undefined) checked.path = path;
    }
    for (const name of ["method", "tenant", "clientId", "region"] as const) {
      const text = optionalString(match[name], `${field}.match.${name}`, "a non-empty string");
      if (text !== undefined) checked[name] = text;
    }
    rule.match = checked;
  }
  if (raw.times !== undefined) rule.times = expectInteger(raw.times, `${field}.times`, 1, Number.MAX_SAFE_INTEGER, "a positive whole number");
  if (raw.probability !== undefined) {
    if (typeof raw.probability !== "number" || !(raw.probability >= 0 && raw.probability <= 1)) {
      throw new EmulatorConfigError(`${field}.probability`, "expected a number from 0 to 1.");
    }
    rule.probability = raw.probability;
  }
  return rule;
}

/** Checks loop detection settings. */
export function validateLoopDetection(value: unknown, field = "loopDetection"): LoopDetectionOptions {
  const raw = expectObject(value, field, ["maxRequests", "windowMs"]);
  return {
    maxRequests: expectInteger(raw.maxRequests, `${field}.maxRequests`, 1, Number.MAX_SAFE_INTEGER, "a positive whole number"),
    windowMs: expectInteger(raw.windowMs, `${field}.windowMs`, 1, Number.MAX_SAFE_INTEGER, "a positive whole number of milliseconds"),
  };
}

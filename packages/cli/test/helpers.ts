import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ENVIRONMENT_VARIABLES } from "@daemon-auth/environment";
import { demoEmulatorIdentities as ids, type Emulator } from "@daemon-auth/emulator";
import { spawnNode, startNode, type NodeProcess, type NodeProcessResult } from "@daemon-auth/test-utils";
import { expect } from "vitest";

/**
 * The bin users run. It runs the build (`dist/`), as `pnpm test` builds first (turbo): a
 * plain Node start keeps each of the many runs fast on a loaded machine.
 */
const CLI = fileURLToPath(new URL("../bin/daemon-auth.js", import.meta.url));
if (!existsSync(new URL("../dist/cli.js", import.meta.url))) {
  throw new Error("packages/cli is not built: run `pnpm --filter @daemon-auth/cli... build` (pnpm test does it for you).");
}

/** Variables for the child: none of the developer's AZURE_* leak in. */
const CLEAN_ENVIRONMENT = Object.fromEntries(Object.values(ENVIRONMENT_VARIABLES).map((name) => [name, undefined]));

/** Options of {@link daemonAuth}. */
export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Piped to stdin. */
  input?: string;
}

/**
 * Runs the real `daemon-auth` in a child process to completion,
 * and checks what must hold for every run: the demo secret never appears in the output.
 */
export async function daemonAuth(args: readonly string[], options: RunOptions = {}): Promise<NodeProcessResult> {
  const result = await spawnNode(CLI, args, {
    env: { ...CLEAN_ENVIRONMENT, ...options.env },
    timeoutMs: 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  expect(result.stdout + result.stderr).not.toContain(ids.daemonClientSecret);
  return result;
}

/** Starts a long-running `daemon-auth` (the emulator command). */
export function startDaemonAuth(args: readonly string[]): NodeProcess {
  return startNode(CLI, args, { env: CLEAN_ENVIRONMENT, timeoutMs: 60_000 });
}

/** The variables a daemon would set to use the demo app against `emulator`, secret included. */
export function demoEnvironment(emulator: Emulator): Record<string, string> {
  return {
    AZURE_AUTHORITY_HOST: emulator.url,
    AZURE_TENANT_ID: ids.tenantDomain,
    AZURE_CLIENT_ID: ids.daemonClientId,
    AZURE_CLIENT_SECRET: ids.daemonClientSecret,
  };
}

/** The claims of a JWT, read without verification (the test checks what the CLI printed). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** The doctor report as `{ check name: status }`. */
export function doctorStatuses(stdout: string): Record<string, string> {
  const statuses: Record<string, string> = {};
  for (const match of stdout.matchAll(/^(PASS|FAIL|SKIP) {2}(.{14}) {2}/gm)) statuses[match[2]!.trim()] = match[1]!;
  return statuses;
}

/** The report lines of one doctor check (its line, facts and fix). */
export function doctorCheck(stdout: string, name: string): string {
  const lines = stdout.split("\n");
  const start = lines.findIndex((line) => /^(PASS|FAIL|SKIP) {2}/.test(line) && line.slice(6).startsWith(`${name.padEnd(14)}  `));
  if (start < 0) return "";
  const end = lines.findIndex((line, index) => index > start && !line.startsWith(" "));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

// The offline story of this sample, shared by `pnpm demo` and the smoke test: the
// emulator (Entra ID, Key Vault and Graph on one HTTPS port), the daemon as a child
// process with the variables a user sets, and a certificate rotation while it runs.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createSelfSignedCertificate, startEmulator, type GeneratedCertificate } from "@daemon-auth/emulator";
import { demoEnvironment, keyVaultDemoIdentities as ids, keyVaultEmulatorConfig, vaultSecretOf } from "./demo-directory.js";

/** Options of {@link runRotationDemo}. */
export interface RotationDemoOptions {
  /** The daemon's entry point: `dist/start.js`, or `src/start.ts` with a TypeScript loader in `execArgv`. */
  readonly script: string;
  /** Node flags for the daemon process. @default [] */
  readonly execArgv?: readonly string[];
  /** Each line the daemon prints, and the demo's own notes. @default console.log */
  readonly onLine?: (line: string) => void;
  /** The daemon is killed after this long. @default 60000 */
  readonly timeoutMs?: number;
}

/** One certificate of the story, as the vault and the app registration know it. */
export interface DemoCertificate {
  readonly subject: string;
  /** SHA-1 thumbprint, hex: what the portal shows. */
  readonly thumbprintSha1: string;
  /** The Key Vault secret version that holds it. */
  readonly vaultVersion: string;
}

/** What happened, for the story check. */
export interface RotationDemoResult {
  readonly exitCode: number | null;
  /** Everything the daemon printed (stdout and stderr), line by line. */
  readonly lines: readonly string[];
  readonly before: DemoCertificate;
  readonly after: DemoCertificate;
  /** The daemon app's token requests in order: HTTP status and AADSTS code of each. */
  readonly daemonTokenRequests: readonly { readonly status: number; readonly errorCode?: number | undefined }[];
  /** Token requests of the bootstrap identity (for the vault). */
  readonly vaultReaderTokenRequests: number;
}

/** Calls the daemon makes: one before the rotation, two after. */
export const DEMO_RUNS = 3;
/** The rotation happens once the daemon has reported this call. */
export const ROTATE_AFTER_RUN = 1;
// Tokens live 3 s and are handed out for half of that, so every call, 2 s apart, needs
// a new token: the rotation meets the running daemon within seconds instead of an hour.
// The other 1.5 s leave a loaded machine time to present each token before it expires.
const TOKEN_LIFETIME_SECONDS = 3;
const INTERVAL_MS = 2_000;

/**
 * Runs the daemon against the emulator for {@link DEMO_RUNS} calls and, once it has
 * reported call {@link ROTATE_AFTER_RUN}, rotates its certificate as an operator would: the new certificate is
 * uploaded to the app registration, stored as a new version in Key Vault, and the old
 * one removed from the app.
 */
export async function runRotationDemo(options: RotationDemoOptions): Promise<RotationDemoResult> {
  const onLine = options.onLine ?? ((line: string) => console.log(line));
  const subjects = ["orders daemon 2026-A", "orders daemon 2026-B"] as const;
  const [first, second] = await Promise.all(subjects.map((subject) => createSelfSignedCertificate({ subject }))) as [GeneratedCertificate, GeneratedCertificate];
  const emulator = await startEmulator({ https: true, config: keyVaultEmulatorConfig(first), tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS });
  try {
    const store = (certificate: GeneratedCertificate): string => {
      const { value, contentType } = vaultSecretOf(certificate);
      return emulator.setVaultSecret(ids.certificateName, value, { contentType });
    };
    const before = describe(subjects[0], first, store(first));
    let after: DemoCertificate | undefined;
    const rotate = (): void => {
      emulator.addCertificate(ids.daemonClientId, { pem: second.certificatePem });
      after = describe(subjects[1], second, store(second));
      emulator.removeCertificate(ids.daemonClientId, first.thumbprintSha1);
      onLine(`>> rotated: ${after.subject} (thumbprint ${after.thumbprintSha1}) uploaded to the app and stored as Key Vault version ${after.vaultVersion}; ${before.subject} (thumbprint ${before.thumbprintSha1}) removed from the app`);
    };

    const environment: Record<string, string> = {
      ...withoutDaemonVariables(process.env),
      ...demoEnvironment(emulator),
      DAEMON_INTERVAL_MS: String(INTERVAL_MS),
      DAEMON_RUNS: String(DEMO_RUNS),
    };
    const lines: string[] = [];
    const exitCode = await runDaemon(options, environment, (line) => {
      lines.push(line);
      onLine(line);
      if (line.startsWith(`run ${ROTATE_AFTER_RUN}:`)) rotate();
    });
    const daemonTokenRequests = emulator.requests
      .filter((request) => request.method === "POST" && request.clientId === ids.daemonClientId)
      .map((request) => ({ status: request.status, errorCode: request.errorCodes?.[0] }));
    if (after === undefined) throw new Error(`The daemon never reported run ${ROTATE_AFTER_RUN}, so the certificate was not rotated.`);
    return { exitCode, lines, before, after, daemonTokenRequests, vaultReaderTokenRequests: emulator.tokenRequestCount({ clientId: ids.vaultReaderClientId }) };
  } finally {
    await emulator.close();
  }
}

function describe(subject: string, certificate: GeneratedCertificate, vaultVersion: string): DemoCertificate {
  return { subject: `CN=${subject}`, thumbprintSha1: certificate.thumbprintSha1, vaultVersion };
}

/** The caller's environment without variables that would configure the daemon differently. */
function withoutDaemonVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !/^(AZURE_|DAEMON_|KEY_VAULT_|API_|NODE_OPTIONS$)/.test(name)) kept[name] = value;
  }
  return kept;
}

function runDaemon(options: RotationDemoOptions, env: Record<string, string>, onLine: (line: string) => void): Promise<number | null> {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), options.script], { env, stdio: ["ignore", "pipe", "pipe"] });
  createInterface({ input: child.stdout }).on("line", onLine);
  createInterface({ input: child.stderr }).on("line", onLine);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The daemon did not finish within ${options.timeoutMs ?? 60_000} ms; it was stopped.`));
    }, options.timeoutMs ?? 60_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

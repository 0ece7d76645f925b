import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/** Options of {@link startNode}, {@link spawnNode} and {@link runNodeProcesses}. */
export interface NodeProcessOptions {
  /** Variables added to (and overriding) the parent's environment; `undefined` removes one. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The child's working directory. @default process.cwd() */
  cwd?: string;
  /** Extra Node flags, placed before the script. @default [] */
  execArgv?: readonly string[];
  /**
   * Run the script through tsx with the `@daemon-auth/source` export condition, so a
   * `.ts` child can import workspace packages from their sources without a build.
   * @default true when the script ends in `.ts`, `.mts` or `.cts`
   */
  typescript?: boolean;
  /**
   * The child is killed (SIGKILL) after this long, in milliseconds, and the wait rejects,
   * so a stuck child fails the test instead of hanging it.
   * @default 20000
   */
  timeoutMs?: number;
  /**
   * Written to the child's stdin, which is then closed.
   * @default stdin reads nothing (it is not connected)
   */
  input?: string;
}

/** How a child process ended and what it printed. */
export interface NodeProcessResult {
  /** The exit code, `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, if any. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running child process started by {@link startNode}. */
export interface NodeProcess {
  readonly pid: number;
  /** Settles when the child exits; rejects only when {@link NodeProcessOptions.timeoutMs} passes. */
  readonly exited: Promise<NodeProcessResult>;
  /** Everything printed to stdout so far. */
  stdout(): string;
  /** Everything printed to stderr so far. */
  stderr(): string;
  /** Resolves once stdout contains `pattern`; rejects if the child exits first or after `timeoutMs`. */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGTERM) if the child still runs. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Loaded into every child: exit as soon as the parent is gone (its end of the pipe on
 * fd 3 closes), so a test runner killed on a timeout leaves no child looping forever.
 * The socket is unref'd so it never keeps a finished child alive.
 */
const PARENT_GUARD =
  "data:text/javascript," +
  encodeURIComponent(
    'import{Socket}from"node:net";const s=new Socket({fd:3,readable:true,writable:false});' +
      's.on("end",()=>process.exit(70));s.on("error",()=>{});s.resume();s.unref();',
  );

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

let tsxLoader: string | undefined;

/** The `--import` argument that makes Node run TypeScript children through tsx. */
export function typescriptExecArgv(): string[] {
  tsxLoader ??= pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return ["--import", tsxLoader, "--conditions=@daemon-auth/source"];
}

/**
 * Starts `node script ...args` and returns a handle to watch and kill it.
 *
 * @example
 * const child = startNode(fixture("writer.ts"), [dir]);
 * await child.waitForOutput("ready");
 * child.kill("SIGKILL");
 * await child.exited;
 */
export function startNode(script: string, args: readonly string[] = [], options: NodeProcessOptions = {}): NodeProcess {
  installExitHook();
  const typescript = options.typescript ?? /\.[mc]?ts$/.test(script);
  const execArgv = [...(typescript ? typescriptExecArgv() : []), ...(options.execArgv ?? [])];
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  // A debugger or loader flag meant for the test runner would apply to every child too.
  delete env["NODE_OPTIONS"];
  const child = spawn(process.execPath, ["--import", PARENT_GUARD, ...execArgv, script, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env,
    // fd 3 only serves PARENT_GUARD: the kernel closes it when this process dies.
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe", "pipe"],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  live.add(child);
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const check of waiters) check();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));

  const timeoutMs = options.timeoutMs ?? 20_000;
  const exited = new Promise<NodeProcessResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not exit within ${timeoutMs} ms; it was killed. stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    timer.unref();
    child.once("error", (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      for (const check of waiters) check();
      resolve({ code, signal, stdout, stderr });
    });
  });
  // Callers that only kill the child may never await `exited`; keep a rejection from going unhandled.
  exited.catch(() => undefined);

  return {
    pid: child.pid ?? -1,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput(pattern, waitMs = timeoutMs) {
      const matches = () => (typeof pattern === "string" ? stdout.includes(pattern) : pattern.test(stdout));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${script} did not print ${String(pattern)} within ${waitMs} ms. stderr:\n${stderr}`));
        }, waitMs);
        const check = () => {
          if (matches()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`${script} exited before printing ${String(pattern)}. stderr:\n${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/**
 * Runs `node script ...args` to completion and resolves its exit code and output. A
 * child that outlives `options.timeoutMs` is killed and the promise rejects.
 */
export async function spawnNode(
  script: string,
  args: readonly string[] = [],
  options: NodeProcessOptions = {},
): Promise<NodeProcessResult> {
  return startNode(script, args, options).exited;
}

/**
 * Runs `count` copies of `script` at the same time and resolves all their results, in
 * order. `args` may be a function of the child's index (0-based).
 *
 * @example
 * const results = await runNodeProcesses(8, fixture("acquire.ts"), (i) => [String(i)]);
 * expect(results.every((r) => r.code === 0)).toBe(true);
 */
export async function runNodeProcesses(
  count: number,
  script: string,
  args: readonly string[] | ((index: number) => readonly string[]) = [],
  options: NodeProcessOptions = {},
): Promise<NodeProcessResult[]> {
  const children = Array.from({ length: count }, (_, index) =>
    startNode(script, typeof args === "function" ? args(index) : args, options),
  );
  const settled = await Promise.allSettled(children.map((child) => child.exited));
  const failure = settled.find((result) => result.status === "rejected");
  if (failure !== undefined) {
    for (const child of children) child.kill("SIGKILL");
    throw failure.reason;
  }
  return settled.map((result) => (result as PromiseFulfilledResult<NodeProcessResult>).value);
}

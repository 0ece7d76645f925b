import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /**
   * Extra `redis-server` arguments, e.g. `["--maxmemory", "1mb"]` or
   * `["--requirepass", "s3cret"]`.
   * @default []
   */
  args?: readonly string[];
  /**
   * The `redis-server` binary.
   * @default process.env.REDIS_SERVER_BIN, else "redis-server" from PATH
   */
  bin?: string;
  /**
   * How long to wait for the server to answer PING, in milliseconds.
   * @default 10000
   */
  startTimeoutMs?: number;
  /**
   * The text of a configuration file, written to the server's private directory and
   * passed as its first argument. Sentinel needs one: it rewrites its file with what it
   * learns (replicas, failovers), and refuses to start without a writable file.
   * @default no configuration file
   */
  config?: string;
}

/** A `redis-server` child process owned by a test. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The TCP port; kept across {@link RedisServer.restart}. */
  readonly port: number;
  /** Whether the process is running (started and neither stopped nor crashed). */
  readonly running: boolean;
  /** Kills the server (SIGKILL, like a crash) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Kills the server (SIGKILL, like a crash) and waits for it to exit, keeping its
   * private directory: a {@link RedisServer.restart} then finds its files again (a
   * cluster node its `nodes.conf`, so it rejoins with its identity). Safe to call twice.
   */
  kill(): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port with an empty dataset. */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers, like a hung host. */
  pause(): void;
  /** Undoes {@link RedisServer.pause} (SIGCONT). */
  resume(): void;
  /**
   * Sends one command over a fresh connection and resolves the decoded reply (an error
   * reply rejects), for checks that must not depend on the client under test.
   */
  command(...args: readonly string[]): Promise<RedisReply>;
}

/**
 * Runs redis-server ($0 and its arguments) under a shell that kills it once our end of
 * the shell's stdin closes: when we stop it, and also when the test process dies without
 * running any exit hook (a worker killed on timeout), so no server outlives its test.
 * The shell exits with redis.
 */
const WATCHDOG = [
  "exec 3<&0",
  '"$0" "$@" </dev/null 3<&- & pid=$!',
  'echo "watchdog-pid $pid"',
  '(read _ <&3; kill -9 "$pid" 2>/dev/null) &',
  "exec 3<&-",
  'wait "$pid"',
].join("\n");

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Stops servers on a normal exit too, without waiting for the watchdogs to notice. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.stdin?.destroy();
  });
}

function resolveBinary(bin: string | undefined): string {
  const candidate = bin ?? process.env["REDIS_SERVER_BIN"] ?? "redis-server";
  const probe = spawnSync(candidate, ["--version"], { encoding: "utf8", timeout: 5000 });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `redis-server was not found (tried "${candidate}"). Install it with \`apt-get install redis-server\` ` +
        "(or `brew install redis`), or point REDIS_SERVER_BIN at the binary.",
    );
  }
  return candidate;
}

/**
 * Starts a real `redis-server` on a free port of 127.0.0.1, with no persistence and a
 * private temporary directory, and resolves once it answers PING. Never touches the
 * shared server on 6379.
 *
 * @example
 * const redis = await startRedisServer();
 * afterAll(() => redis.stop());
 * const store = createRedisCache({ url: redis.url });
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = resolveBinary(options.bin);
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const extraArgs = options.args ?? [];
  let dir = mkdtempSync(join(tmpdir(), "daemon-auth-redis-"));
  installExitHook();

  let child: ChildProcess | undefined;
  let redisPid: number | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port = 0;
  let removed = false;

  function removeDir(): void {
    if (removed) return;
    removed = true;
    rmSync(dir, { recursive: true, force: true });
  }

  async function spawnOn(candidatePort: number): Promise<void> {
    const configFile = join(dir, "redis.conf");
    // Written once per directory: on a restart Sentinel finds the state it rewrote there.
    if (options.config !== undefined && !existsSync(configFile)) writeFileSync(configFile, options.config, { mode: 0o600 });
    const args = [
      ...(options.config === undefined ? [] : [configFile]),
      "--port", String(candidatePort),
      "--bind", "127.0.0.1",
      "--save", "",
      "--appendonly", "no",
      "--dir", dir,
      "--daemonize", "no",
      "--protected-mode", "yes",
      "--loglevel", "warning",
      ...extraArgs,
    ];
    const proc = spawn("/bin/sh", ["-c", WATCHDOG, bin, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      redisPid ??= Number(/^watchdog-pid (\d+)$/m.exec(output)?.[1]) || undefined;
    };
    proc.stdout?.on("data", collect);
    proc.stderr?.on("data", collect);
    running.add(proc);
    exited = new Promise<void>((resolve) => {
      proc.once("exit", () => {
        running.delete(proc);
        resolve();
      });
    });
    child = proc;
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`redis-server exited during start-up on port ${candidatePort}: ${output.trim()}`);
      }
      try {
        if ((await sendCommand(candidatePort, ["PING"], 500)) === "PONG") return;
      } catch (error) {
        // A server started with --requirepass answers, just not PONG; anything else means not up yet.
        if (error instanceof Error && /^NOAUTH/.test(error.message)) return;
      }
      if (Date.now() > deadline) {
        throw new Error(`redis-server did not answer PING within ${startTimeoutMs} ms: ${output.trim()}`);
      }
      await delay(25);
    }
  }

  function signalRedis(signal: NodeJS.Signals): void {
    if (redisPid === undefined) return;
    try {
      process.kill(redisPid, signal);
    } catch {
      // Already gone.
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc !== undefined) {
      signalRedis("SIGCONT");
      signalRedis("SIGKILL");
      // Closing stdin also ends the watchdog, which kills redis if the signal missed it.
      proc.stdin?.end();
    }
    await exited;
    redisPid = undefined;
  }

  // A port picked by freePort() can be taken by someone else before redis binds it: retry.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await spawnOn(port);
      break;
    } catch (error) {
      await stop();
      if (attempt >= 3) {
        removeDir();
        throw error;
      }
    }
  }

  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      await stop();
      removeDir();
    },
    kill: () => stop(),
    async restart() {
      await stop();
      if (removed) {
        dir = mkdtempSync(join(tmpdir(), "daemon-auth-redis-"));
        removed = false;
      }
      // The kernel may hold the port briefly after a kill; retry the bind for a while.
      const deadline = Date.now() + startTimeoutMs;
      for (;;) {
        try {
          await spawnOn(port);
          return;
        } catch (error) {
          await stop();
          if (Date.now() > deadline) throw error;
          await delay(100);
        }
      }
    },
    pause() {
      signalRedis("SIGSTOP");
    },
    resume() {
      signalRedis("SIGCONT");
    },
    command(...args: readonly string[]) {
      return sendCommand(port, args, 2000);
    },
  };
  return server;
}

/** A decoded RESP2 reply; error replies reject instead. */
export type RedisReply = string | number | null | RedisReply[];

/** One command over a fresh socket, so checks never depend on the client under test. */
function sendCommand(port: number, args: readonly string[], timeoutMs: number): Promise<RedisReply> {
  return new Promise<RedisReply>((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parseReply(buffer, 0);
      if (parsed === undefined) return;
      clearTimeout(timer);
      socket.end();
      if (parsed.value instanceof Error) reject(parsed.value);
      else resolve(parsed.value);
    });
    socket.write(`*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join(""));
  });
}

/** Parses one RESP2 value at `offset`; `undefined` when more bytes are needed. */
function parseReply(buffer: Buffer, offset: number): { value: RedisReply | Error; next: number } | undefined {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString("utf8", offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, next: afterLine };
    case "-":
      return { value: new Error(line), next: afterLine };
    case ":":
      return { value: Number(line), next: afterLine };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      if (buffer.length < afterLine + length + 2) return undefined;
      return { value: buffer.toString("utf8", afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RedisReply[] = [];
      let next = afterLine;
      for (let index = 0; index < count; index++) {
        const item = parseReply(buffer, next);
        if (item === undefined) return undefined;
        if (item.value instanceof Error) return item;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      return { value: new Error(`unexpected RESP reply type ${JSON.stringify(type)}`), next: buffer.length };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

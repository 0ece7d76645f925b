import { startRedisServer, type RedisServer } from "./redis-server.js";
import { infoField, until } from "./redis-wait.js";

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /**
   * The name the sentinel monitors the master under (ioredis' `name` option).
   * @default "daemon-auth"
   */
  masterName?: string;
  /**
   * `down-after-milliseconds`: how long the master may not answer before the sentinel
   * counts it as down and starts a failover. Low, so that failover tests are quick.
   * @default 1000
   */
  downAfterMs?: number;
  /**
   * `failover-timeout`, in milliseconds.
   * @default 3000
   */
  failoverTimeoutMs?: number;
  /**
   * Extra `redis-server` arguments for the master and the replica (not the sentinel).
   * @default []
   */
  args?: readonly string[];
  /**
   * How long to wait for the set-up to be ready (replica in sync, sentinel aware of it), in milliseconds.
   * @default 20000
   */
  startTimeoutMs?: number;
}

/** A master, its replica and one sentinel watching them, owned by a test. */
export interface RedisSentinelSetup {
  /** The monitored master's name. */
  readonly name: string;
  /** The server that was master at start. */
  readonly master: RedisServer;
  /** The server that was its replica at start. */
  readonly replica: RedisServer;
  /** The sentinel process (`redis-server --sentinel`). */
  readonly sentinel: RedisServer;
  /** `{ host, port }` of the sentinel, for ioredis' `sentinels` option. */
  readonly sentinels: readonly { host: string; port: number }[];
  /** The port of the master as the sentinel announces it now. */
  masterPort(): Promise<number>;
  /**
   * Resolves once the sentinel announces a master other than `oldPort` and that server
   * says it is a master; rejects after `timeoutMs`.
   */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<RedisServer>;
  /** Stops the sentinel and both servers. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a master, a replica of it and a sentinel (quorum 1) on free ports of 127.0.0.1,
 * and resolves once the replica is in sync and the sentinel knows it, so that killing
 * the master leads to a failover.
 *
 * @example
 * const setup = await startRedisSentinel();
 * afterAll(() => setup.stop());
 * const client = new Redis({ sentinels: [...setup.sentinels], name: setup.name });
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelSetup> {
  const name = options.masterName ?? "daemon-auth";
  const downAfterMs = options.downAfterMs ?? 1000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 3000;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    const master = await startRedisServer({ args: options.args ?? [] });
    servers.push(master);
    const replica = await startRedisServer({ args: [...(options.args ?? []), "--replicaof", master.host, String(master.port)] });
    servers.push(replica);
    await until(startTimeoutMs, "the replica to be in sync", async () =>
      infoField(await replica.command("INFO", "replication"), "master_link_status") === "up",
    );
    const sentinel = await startRedisServer({
      args: ["--sentinel"],
      config: [
        `sentinel monitor ${name} ${master.host} ${String(master.port)} 1`,
        `sentinel down-after-milliseconds ${name} ${String(downAfterMs)}`,
        `sentinel failover-timeout ${name} ${String(failoverTimeoutMs)}`,
        `sentinel parallel-syncs ${name} 1`,
        "",
      ].join("\n"),
    });
    servers.push(sentinel);
    // Without a known replica the sentinel has nobody to promote.
    await until(startTimeoutMs, "the sentinel to know the replica", async () => {
      const replicas = await sentinel.command("SENTINEL", "REPLICAS", name);
      return Array.isArray(replicas) && replicas.some((fields) => Array.isArray(fields) && fields.includes(String(replica.port)));
    });

    const masterPort = async () => {
      const address = await sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name);
      return Array.isArray(address) ? Number(address[1]) : Number.NaN;
    };
    return {
      name,
      master,
      replica,
      sentinel,
      sentinels: [{ host: sentinel.host, port: sentinel.port }],
      masterPort,
      async waitForFailover(oldPort, timeoutMs = 20_000) {
        let promoted: RedisServer | undefined;
        await until(timeoutMs, "the sentinel to promote the replica", async () => {
          const port = await masterPort();
          promoted = port === oldPort ? undefined : servers.find((server) => server.port === port && server !== sentinel);
          return promoted !== undefined && infoField(await promoted.command("INFO", "replication"), "role") === "master";
        });
        return promoted as RedisServer;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

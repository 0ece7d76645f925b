import { freePort } from "./free-port.js";
import { infoField, until } from "./redis-wait.js";
import { startRedisServer, type RedisServer } from "./redis-server.js";

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /**
   * How many masters share the 16384 hash slots (in equal ranges).
   * @default 3
   */
  masters?: number;
  /**
   * Replicas per master. With one, killing a master makes the cluster promote its
   * replica after `nodeTimeoutMs`; with none, its slots stay down until it restarts.
   * @default 0
   */
  replicasPerMaster?: number;
  /**
   * `cluster-node-timeout`: how long a node may not answer before the others count it
   * as failed (and a replica takes over). Low, so that failover tests are quick.
   * @default 1000
   */
  nodeTimeoutMs?: number;
  /**
   * Extra `redis-server` arguments for every node.
   * @default []
   */
  args?: readonly string[];
  /**
   * How long to wait for the cluster to be formed (every node knows every other, every
   * slot is served, every replica in sync), in milliseconds.
   * @default 20000
   */
  formTimeoutMs?: number;
}

/** A Redis Cluster of `redis-server` processes owned by a test. */
export interface RedisCluster {
  /** Every node: the masters first (in slot order), then the replicas (of master 0, 1, …). */
  readonly nodes: readonly RedisServer[];
  /** `{ host, port }` of every node, for `new Cluster(startupNodes)` of ioredis. */
  readonly startupNodes: readonly { host: string; port: number }[];
  /** The hash slot of `key` (CRC16 of its hash tag, or of the whole key), as Redis computes it. */
  keySlot(key: string): Promise<number>;
  /**
   * The running node serving `key`'s slot as master, as a running node sees it; during a
   * failover, waits up to `timeoutMs` (default 10 s) for the cluster to name one.
   */
  masterFor(key: string, timeoutMs?: number): Promise<RedisServer>;
  /**
   * Resolves once every running node says `cluster_state:ok` and every slot is served by
   * a running master that the others do not count as failed; rejects after `timeoutMs`.
   */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node. Safe to call twice. */
  stop(): Promise<void>;
}

const SLOTS = 16_384;

/**
 * Starts a Redis Cluster on free ports of 127.0.0.1 (bus ports too), assigns the slots,
 * joins the nodes with CLUSTER MEET, attaches the replicas, and resolves once the
 * cluster is healthy. Nodes keep their `nodes.conf` across {@link RedisServer.restart},
 * so a restarted node rejoins with its identity (as a replica if it lost its slots).
 *
 * @example
 * const cluster = await startRedisCluster({ replicasPerMaster: 1 });
 * afterAll(() => cluster.stop());
 * const client = new Cluster([...cluster.startupNodes]);
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const formTimeoutMs = options.formTimeoutMs ?? 20_000;
  if (!Number.isInteger(masters) || masters < 1 || !Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new Error("startRedisCluster: masters must be a positive integer and replicasPerMaster a non-negative one");
  }
  const count = masters * (1 + replicasPerMaster);
  const nodes: RedisServer[] = [];
  const busPorts: number[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let index = 0; index < count; index++) {
      const { server, busPort } = await startNode(nodeTimeoutMs, options.args ?? []);
      nodes.push(server);
      busPorts.push(busPort);
    }
    const ids = await Promise.all(nodes.map(async (node) => String(await node.command("CLUSTER", "MYID"))));

    for (let index = 0; index < masters; index++) {
      const first = Math.floor((SLOTS * index) / masters);
      const last = Math.floor((SLOTS * (index + 1)) / masters) - 1;
      const slots = Array.from({ length: last - first + 1 }, (_, offset) => String(first + offset));
      await node(nodes, index).command("CLUSTER", "ADDSLOTS", ...slots);
    }
    const seed = node(nodes, 0);
    for (let index = 1; index < count; index++) {
      await seed.command("CLUSTER", "MEET", "127.0.0.1", String(node(nodes, index).port), String(busPorts[index]));
    }
    await until(formTimeoutMs, "every node to know every other", async () => {
      const known = await Promise.all(nodes.map(async (server) => infoField(await server.command("CLUSTER", "INFO"), "cluster_known_nodes")));
      return known.every((value) => Number(value) === count);
    });
    for (let index = masters; index < count; index++) {
      const masterId = ids[(index - masters) % masters] as string;
      await until(formTimeoutMs, "a replica to accept its master", async () => {
        try {
          return (await node(nodes, index).command("CLUSTER", "REPLICATE", masterId)) === "OK";
        } catch {
          // "Unknown node" until gossip has told this node about the master's role.
          return false;
        }
      });
    }
    const cluster = handle(nodes, stop);
    await cluster.waitUntilHealthy(formTimeoutMs);
    await until(formTimeoutMs, "every replica to be in sync", async () => {
      for (const replica of nodes.slice(masters)) {
        if (infoField(await replica.command("INFO", "replication"), "master_link_status") !== "up") return false;
      }
      return true;
    });
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startNode(nodeTimeoutMs: number, args: readonly string[]): Promise<{ server: RedisServer; busPort: number }> {
  // The bus port is not retried by startRedisServer (only the client port is): retry here.
  for (let attempt = 1; ; attempt++) {
    const busPort = await freePort();
    try {
      const server = await startRedisServer({
        args: [
          "--cluster-enabled", "yes",
          "--cluster-config-file", "nodes.conf",
          "--cluster-node-timeout", String(nodeTimeoutMs),
          "--cluster-port", String(busPort),
          // A replica whose link was down for long may still take over: tests kill masters on purpose.
          "--cluster-replica-validity-factor", "0",
          ...args,
        ],
      });
      return { server, busPort };
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

function handle(nodes: readonly RedisServer[], stop: () => Promise<void>): RedisCluster {
  const anyRunning = (): RedisServer => {
    const running = nodes.find((server) => server.running);
    if (running === undefined) throw new Error("no node of the Redis Cluster is running");
    return running;
  };
  const byPort = (port: number): RedisServer | undefined => nodes.find((server) => server.port === port);

  /** `CLUSTER NODES` of a running node: every master it does not count as failed, with its slot ranges. */
  const liveMasters = async (from: RedisServer): Promise<{ port: number; ranges: [number, number][] }[]> => {
    const text = String(await from.command("CLUSTER", "NODES"));
    const result: { port: number; ranges: [number, number][] }[] = [];
    for (const line of text.split("\n")) {
      const fields = line.trim().split(" ");
      const flags = fields[2]?.split(",") ?? [];
      if (!flags.includes("master") || flags.includes("fail") || flags.includes("fail?")) continue;
      const port = Number(/:(\d+)@/.exec(fields[1] ?? "")?.[1]);
      const ranges = fields.slice(8).flatMap((slot): [number, number][] => {
        if (slot.startsWith("[")) return []; // a slot being migrated
        const [first, last = first] = slot.split("-");
        return [[Number(first), Number(last)]];
      });
      result.push({ port, ranges });
    }
    return result;
  };

  const cluster: RedisCluster = {
    nodes,
    startupNodes: nodes.map((server) => ({ host: server.host, port: server.port })),
    async keySlot(key) {
      return Number(await anyRunning().command("CLUSTER", "KEYSLOT", key));
    },
    async masterFor(key, timeoutMs = 10_000) {
      const slot = Number(await anyRunning().command("CLUSTER", "KEYSLOT", key));
      // Right after a failover the nodes learn the promoted master by gossip, one after the
      // other: wait until a running node names a running master for the slot.
      let found: RedisServer | undefined;
      await until(timeoutMs, `a live master serving slot ${String(slot)}`, async () => {
        for (const from of nodes.filter((server) => server.running)) {
          for (const master of await liveMasters(from)) {
            if (!master.ranges.some(([first, last]) => slot >= first && slot <= last)) continue;
            const server = byPort(master.port);
            if (server?.running === true) {
              found = server;
              return true;
            }
          }
        }
        return false;
      });
      return found!;
    },
    async waitUntilHealthy(timeoutMs = 20_000) {
      await until(timeoutMs, "the Redis Cluster to be healthy", async () => {
        const running = nodes.filter((server) => server.running);
        for (const server of running) {
          if (infoField(await server.command("CLUSTER", "INFO"), "cluster_state") !== "ok") return false;
          let covered = 0;
          for (const master of await liveMasters(server)) {
            if (byPort(master.port)?.running !== true) return false;
            for (const [first, last] of master.ranges) covered += last - first + 1;
          }
          if (covered !== SLOTS) return false;
        }
        return running.length > 0;
      });
    },
    stop,
  };
  return cluster;
}

function node(nodes: readonly RedisServer[], index: number): RedisServer {
  const server = nodes[index];
  if (server === undefined) throw new Error(`no node ${String(index)}`);
  return server;
}

export { freePort } from "./free-port.js";
export { startRedisServer, type RedisServer, type RedisServerOptions, type RedisReply } from "./redis-server.js";
export {
  startNode,
  spawnNode,
  runNodeProcesses,
  typescriptExecArgv,
  type NodeProcess,
  type NodeProcessOptions,
  type NodeProcessResult,
} from "./node-process.js";
export { agentPipelinePolicy } from "./azure-agent-policy.js";
export { startRedisCluster, type RedisCluster, type RedisClusterOptions } from "./redis-cluster.js";
export { startRedisSentinel, type RedisSentinelOptions, type RedisSentinelSetup } from "./redis-sentinel.js";
export {
  startTlsRedisServer,
  createTestCertificateAuthority,
  type TestCertificateAuthority,
  type TlsRedisServer,
} from "./redis-tls.js";
export { infoField, until } from "./redis-wait.js";

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

import type { Agent } from "node:https";

/**
 * An Azure SDK pipeline policy that sends every request through `agent`, so an
 * in-process SDK client trusts a test CA (`NODE_EXTRA_CA_CERTS` is read only when
 * Node starts). Typed structurally: cast it to the SDK's `additionalPolicies` entry.
 */
export function agentPipelinePolicy(agent: Agent) {
  return {
    policy: {
      name: "daemonAuthTestAgent",
      sendRequest: (request: { agent?: unknown }, next: (request: never) => Promise<unknown>) => {
        request.agent = agent;
        return next(request as never);
      },
    },
    position: "perCall" as const,
  };
}

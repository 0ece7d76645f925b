/**
 * The offline story behind `pnpm demo`: an ISV's multi-tenant app, four customer tenants
 * onboarded through the emulator's admin consent page (one admin declines), three worker
 * processes sharing one Redis, and one customer withdrawing consent mid-run.
 */
import { fileURLToPath } from "node:url";
import { answerAdminConsent, GRAPH_RESOURCE, GRAPH_USERS_ROLE, startEmulator, type Emulator, type EmulatorConfig } from "@daemon-auth/emulator";
import { freePort, startNode, type NodeProcess } from "@daemon-auth/test-utils";
import { Redis } from "ioredis";
import { onboardTenants } from "./onboarding.js";
import { TenantRegistry, type TenantStatus } from "./registry.js";
import { readSettings } from "./settings.js";

/** The demo directory: the ISV's tenant and app, Microsoft Graph, and the customers. */
export const demoDirectory = Object.freeze({
  isvTenantId: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  clientId: "6c1e0f3a-9b2d-4e7f-8a5c-1d3e5f7a9b0c",
  /** Demo value: only the emulator accepts it. */
  clientSecret: "demo-secret-for-the-multi-tenant-worker-emulator-only",
  customers: [
    { domain: "fabrikam.onmicrosoft.com", id: "f1000000-0000-4000-8000-000000000001", admin: "accept" },
    { domain: "northwind.onmicrosoft.com", id: "f1000000-0000-4000-8000-000000000002", admin: "accept", revokesMidRun: true },
    { domain: "tailspin.onmicrosoft.com", id: "f1000000-0000-4000-8000-000000000003", admin: "accept" },
    { domain: "woodgrove.onmicrosoft.com", id: "f1000000-0000-4000-8000-000000000004", admin: "cancel" },
  ],
} as const);

/** The emulator configuration of the demo, with the app's redirect URI registered. */
export function demoEmulatorDirectory(redirectUri: string): EmulatorConfig {
  const ids = demoDirectory;
  return {
    tenants: [
      { id: ids.isvTenantId, domains: ["adatum-isv.onmicrosoft.com"], displayName: "Adatum (the ISV)" },
      ...ids.customers.map((customer) => ({ id: customer.id, domains: [customer.domain], displayName: customer.domain.split(".")[0] ?? customer.domain })),
    ],
    applications: [
      {
        clientId: "00000003-0000-0000-c000-000000000000",
        displayName: "Microsoft Graph",
        homeTenant: ids.isvTenantId,
        multiTenant: true,
        identifierUris: [GRAPH_RESOURCE],
        appRoles: [{ value: GRAPH_USERS_ROLE, id: "df021288-bdef-4463-88db-98f22de89214", description: "Read all users' full profiles" }],
      },
      {
        clientId: ids.clientId,
        displayName: "Adatum Insights (multi-tenant worker)",
        homeTenant: ids.isvTenantId,
        multiTenant: true,
        secrets: [{ value: ids.clientSecret }],
        requiredResourceAccess: [{ resource: GRAPH_RESOURCE, roles: [GRAPH_USERS_ROLE] }],
        redirectUris: [redirectUri],
      },
    ],
  };
}

/** The `AZURE_*` and sample variables a user would set, pointing at the emulator. */
export function demoEnvironment(emulator: Emulator, redisUrl: string, redirectUri: string): Record<string, string> {
  return {
    AZURE_AUTHORITY_HOST: emulator.url,
    AZURE_TENANT_ID: demoDirectory.isvTenantId,
    AZURE_CLIENT_ID: demoDirectory.clientId,
    AZURE_CLIENT_SECRET: demoDirectory.clientSecret,
    REDIS_URL: redisUrl,
    TENANTS: demoDirectory.customers.map((customer) => customer.domain).join(","),
    GRAPH_URL: emulator.graphUrl,
    CONSENT_REDIRECT_URI: redirectUri,
    WORK_INTERVAL_MS: "300",
  };
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  redisUrl: string;
  print: (line: string) => void;
  /** @default 3 */
  workers?: number;
  /** Longest wait for each step, in milliseconds. @default 60000 */
  stepTimeoutMs?: number;
}

/** What happened to one customer tenant. */
export interface DemoTenantReport {
  readonly domain: string;
  readonly status: TenantStatus | undefined;
  /** Token requests for the tenant that the emulator answered with a token, across every worker. */
  readonly tokensIssued: number;
  /** Token requests for the tenant that the emulator refused. */
  readonly tokensRefused: number;
}

/** The outcome of {@link runDemo}. */
export interface DemoReport {
  readonly tenants: readonly DemoTenantReport[];
  readonly workerOutputs: readonly string[];
  readonly workerExitCodes: readonly (number | null)[];
  /** Whether the story went as told: see the checks in {@link runDemo}. */
  readonly ok: boolean;
  readonly problems: readonly string[];
}

const CONSENT_GONE_LINE = (domain: string): RegExp => new RegExp(`tenant ${domain.replace(/\./g, "\\.")}: (CONSENT WITHDRAWN|skipped, needs re-consent)`);

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs the whole story and reports what the emulator saw. Every step runs the same code
 * a user runs against Entra ID: `onboardTenants`, and worker processes (`start.ts`) configured
 * by the environment.
 */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const { print } = options;
  const workerCount = options.workers ?? 3;
  const stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
  const redirectUri = `http://localhost:${await freePort()}/consent`;
  const emulator = await startEmulator({ config: demoEmulatorDirectory(redirectUri) });
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const workers: NodeProcess[] = [];
  try {
    const env = demoEnvironment(emulator, options.redisUrl, redirectUri);
    const settings = readSettings(env);
    const registry = new TenantRegistry(redis);
    await registry.clear();
    print(`== identity platform emulator ${emulator.url}; Graph ${emulator.graphUrl}; Redis ${new URL(options.redisUrl).host}`);

    print("== 1. onboarding: each customer's admin opens the consent URL (answered over HTTP here, as the page's buttons do)");
    const answering: Promise<void>[] = [];
    const answerFailed = new AbortController();
    await onboardTenants(settings, registry, {
      print: (line) => print(`   ${line}`),
      onConsentUrl: (tenant, url) => {
        const decision = demoDirectory.customers.find((customer) => customer.domain === tenant)?.admin ?? "accept";
        answering.push(
          (async () => {
            const outcome = await answerAdminConsent(url, decision);
            // The browser follows the redirect back to the app's receiver.
            if (outcome.location !== undefined) await (await fetch(outcome.location)).text();
          })().catch((error: unknown) => {
            print(`   ${tenant}: answering the consent page failed: ${error instanceof Error ? error.message : String(error)}`);
            answerFailed.abort();
          }),
        );
      },
      signal: AbortSignal.any([AbortSignal.timeout(stepTimeoutMs), answerFailed.signal]),
    });
    await Promise.all(answering);
    if (answerFailed.signal.aborted) throw new Error("onboarding failed; see above");

    print(`== 2. ${workerCount} worker processes share Redis; each round lists every consented tenant's users through Graph`);
    const script = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "./start.ts" : "./start.js", import.meta.url));
    const printed: number[] = [];
    for (let index = 0; index < workerCount; index += 1) {
      workers.push(startNode(script, [], { env: { ...env, WORKER_NAME: `worker-${index + 1}` }, timeoutMs: stepTimeoutMs * 3 }));
      printed.push(0);
    }
    // Streams each worker's complete lines as they come.
    const pump = setInterval(() => {
      workers.forEach((worker, index) => {
        const text = worker.stdout();
        const end = text.lastIndexOf("\n") + 1;
        if (end > (printed[index] ?? 0)) {
          for (const line of text.slice(printed[index], end).split("\n").filter((entry) => entry !== "")) print(`   ${line}`);
          printed[index] = end;
        }
      });
    }, 50);
    try {
      await Promise.all(workers.map((worker) => worker.waitForOutput(/round 1 done/, stepTimeoutMs)));
      const revoked = demoDirectory.customers.find((customer) => "revokesMidRun" in customer)!;
      emulator.revoke({ tenant: revoked.domain, clientId: demoDirectory.clientId });
      print(`== 3. ${revoked.domain}'s admin removes the app (consent withdrawn) while the workers run`);
      // Each worker must notice, then go on for two more rounds without retrying that tenant.
      await until(
        () =>
          workers.every((worker) => {
            const out = worker.stdout();
            const noticed = CONSENT_GONE_LINE(revoked.domain).exec(out);
            return noticed !== null && (out.slice(noticed.index).match(/round \d+ done/g) ?? []).length >= 2;
          }),
        stepTimeoutMs,
        "every worker to report the withdrawn consent and run two more rounds",
      );
      for (const worker of workers) worker.kill("SIGTERM");
      await Promise.all(workers.map((worker) => worker.exited));
    } finally {
      await new Promise((resolve) => setTimeout(resolve, 60));
      clearInterval(pump);
    }

    const statuses = await registry.all();
    const tenants = demoDirectory.customers.map((customer): DemoTenantReport => {
      const requests = emulator.requests.filter((request) => request.method === "POST" && request.path.endsWith("/oauth2/v2.0/token") && request.tenant?.toLowerCase() === customer.domain);
      return {
        domain: customer.domain,
        status: statuses.get(customer.domain)?.status,
        tokensIssued: requests.filter((request) => request.status === 200).length,
        tokensRefused: requests.filter((request) => request.status !== 200).length,
      };
    });
    const exits = await Promise.all(workers.map((worker) => worker.exited));
    const problems: string[] = [];
    for (const tenant of tenants) {
      const customer = demoDirectory.customers.find((entry) => entry.domain === tenant.domain)!;
      const expected: TenantStatus = customer.admin === "cancel" ? "declined" : "revokesMidRun" in customer ? "needs-consent" : "consented";
      if (tenant.status !== expected) problems.push(`${tenant.domain} is ${tenant.status ?? "unknown"}, expected ${expected}`);
      const issued = customer.admin === "cancel" ? 0 : 1;
      if (tenant.tokensIssued !== issued) problems.push(`${tenant.domain} got ${tenant.tokensIssued} tokens, expected ${issued} across all workers`);
      // Per worker at most one: the claims retry after Graph's challenge, which the token endpoint refuses.
      const refusedBound = "revokesMidRun" in customer ? workerCount : 0;
      if (tenant.tokensRefused > refusedBound || ("revokesMidRun" in customer && tenant.tokensRefused === 0)) {
        problems.push(`${tenant.domain} had ${tenant.tokensRefused} refused token requests, expected ${refusedBound === 0 ? "none" : `1 to ${refusedBound}`}`);
      }
    }
    if (exits.some((exit) => exit.code !== 0)) {
      problems.push(`worker exit codes ${exits.map((exit) => String(exit.code)).join(", ")}`);
      for (const exit of exits) if (exit.stderr !== "") print(exit.stderr.trimEnd());
    }

    print("== 4. summary (token requests as the emulator counted them, across all workers)");
    for (const tenant of tenants) {
      print(`   ${tenant.domain.padEnd(27)} ${String(tenant.status ?? "-").padEnd(14)} tokens issued ${tenant.tokensIssued}, refused ${tenant.tokensRefused}`);
    }
    return { tenants, workerOutputs: exits.map((exit) => exit.stdout), workerExitCodes: exits.map((exit) => exit.code), ok: problems.length === 0, problems };
  } finally {
    for (const worker of workers) worker.kill("SIGKILL");
    redis.disconnect();
    await emulator.close();
  }
}

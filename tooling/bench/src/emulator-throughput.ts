import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";
import { createDaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator } from "@daemon-auth/emulator";
import type { Figure } from "./scenarios.js";

const ids = demoEmulatorIdentities;

/** Sequential token requests per second for `durationMs`, after a short warm-up. */
async function requestsPerSecond(durationMs: number, call: () => Promise<unknown>): Promise<number> {
  const warmUpEnd = performance.now() + Math.min(300, durationMs / 5);
  while (performance.now() < warmUpEnd) await call();
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < durationMs) {
    await call();
    count += 1;
  }
  return count / ((performance.now() - start) / 1000);
}

/**
 * The child half: both libraries against the emulator at `authority`, each with its own
 * default HTTP stack. Runs in a child so `NODE_EXTRA_CA_CERTS` (read at start-up only)
 * can trust the emulator's CA, which msal-node's default client needs for HTTPS.
 */
export async function measureAgainstEmulator(authority: string, durationMs: number): Promise<{ ours: number; msal: number }> {
  const ours = createDaemonClient({ authority, clientId: ids.daemonClientId, credential: clientSecret(ids.daemonClientSecret) });
  const msal = new ConfidentialClientApplication({
    auth: { clientId: ids.daemonClientId, clientSecret: ids.daemonClientSecret, authority, knownAuthorities: [new URL(authority).host] },
    system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false } },
  });
  try {
    const oursRate = await requestsPerSecond(durationMs, () => ours.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true }));
    const msalRate = await requestsPerSecond(durationMs, () => msal.acquireTokenByClientCredential({ scopes: [ids.apiScope], skipCache: true }));
    return { ours: oursRate, msal: msalRate };
  } finally {
    await ours.dispose();
  }
}

/**
 * Scenario 4: token requests per second to the emulator over loopback HTTPS with the cache
 * bypassed. HTTPS, not HTTP, because msal-node refuses an `http:` authority.
 */
export async function emulatorThroughput(durationMs: number): Promise<Figure> {
  const emulator = await startEmulator({ https: true, config: demoEmulatorConfig() });
  try {
    const caPath = emulator.caCertificatePath;
    if (caPath === undefined) throw new Error("The HTTPS emulator gave no CA file; the emulator package changed.");
    const child = fileURLToPath(new URL("./emulator-child.js", import.meta.url));
    const output = await new Promise<string>((resolve, reject) => {
      const process_ = spawn(process.execPath, [child, emulator.authority(ids.tenantId), String(durationMs)], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let text = "";
      process_.stdout.setEncoding("utf8");
      process_.stdout.on("data", (chunk: string) => (text += chunk));
      process_.on("error", reject);
      process_.on("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`The emulator benchmark child exited with ${String(code)}.`))));
    });
    const rates = JSON.parse(output) as { ours: number; msal: number };
    return {
      scenario: "emulator, loopback HTTPS, cache bypassed",
      unit: "requests/s",
      ours: rates.ours,
      msal: rates.msal,
      note: "higher is better; ratio > 1 means daemon-auth is faster",
    };
  } finally {
    await emulator.close();
  }
}

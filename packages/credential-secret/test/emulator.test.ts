import { demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { type ClientCredential } from "@daemon-auth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientSecret } from "../src/index.js";

// Core is written in parallel, so these tests build the form core would send from the
// credential's output and post it to a real (emulated) token endpoint.
const ids = demoEmulatorIdentities;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
});

afterAll(async () => {
  await emulator?.close();
});

async function requestToken(credential: ClientCredential): Promise<{ status: number; body: Record<string, unknown> }> {
  const tokenEndpoint = emulator.tokenEndpoint(ids.tenantId);
  const authentication = await credential.getAuthentication({ tokenEndpoint, clientId: ids.daemonClientId, authorityKind: "entra" });
  if (!("clientSecret" in authentication)) throw new Error("expected a client secret");
  const response = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: ids.daemonClientId,
      scope: ids.apiScope,
      client_secret: authentication.clientSecret,
      grant_type: "client_credentials",
    }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("clientSecret against the emulator's token endpoint", () => {
  it("obtains an access token with a static secret", async () => {
    const { status, body } = await requestToken(clientSecret(ids.daemonClientSecret));
    expect(status).toBe(200);
    expect(body.token_type).toBe("Bearer");
    expect(typeof body.access_token).toBe("string");
  });

  it("recovers from a rotated secret: rejected with AADSTS7000215, reloaded, accepted", async () => {
    // The vault still serves the old value on the first read, the new one after.
    const served = ["Q~old-value-that-the-app-registration-no-longer-has", ids.daemonClientSecret];
    let reads = 0;
    const credential = clientSecret(async () => served[Math.min(reads++, served.length - 1)] as string);

    const rejected = await requestToken(credential);
    expect(rejected.status).toBe(401);
    expect(rejected.body.error_codes).toContain(7000215);

    await credential.reload?.({ error: String(rejected.body.error), errorCodes: rejected.body.error_codes as number[] });
    const accepted = await requestToken(credential);
    expect(accepted.status).toBe(200);
    expect(reads).toBe(2);
  });
});

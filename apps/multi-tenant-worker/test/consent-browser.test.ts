// The admin consent page in a real headless Chromium: open the URL, read the page,
// press Accept or Cancel, land on the app's redirect URI, and see the grant take effect.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDaemonClient, ServerError } from "@daemon-auth/core";
import { answerAdminConsent, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { configurationFromEnvironment } from "@daemon-auth/environment";
import { buildAdminConsentUrl } from "@daemon-auth/http-undici";
import { freePort } from "@daemon-auth/test-utils";
import { decodeJwt } from "jose";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsentReceiver, type ConsentReceiver } from "../src/consent-receiver.js";
import { demoDirectory, demoEmulatorDirectory, demoEnvironment } from "../src/demo-run.js";
import { GRAPH_SCOPE } from "../src/settings.js";

const CHROMIUM = process.env["CHROMIUM_BIN"] ?? "/usr/bin/chromium";
const NORTHWIND = demoDirectory.customers[1];
const WOODGROVE = demoDirectory.customers[3];

let emulator: Emulator;
let receiver: ConsentReceiver;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is needed for the consent page test and was not found at ${CHROMIUM}. Install it (Debian/Ubuntu: \`sudo apt-get install chromium\`) or point CHROMIUM_BIN at a Chromium or Chrome binary.`,
    );
  }
  receiver = await startConsentReceiver(`http://localhost:${await freePort()}/consent`);
  emulator = await startEmulator({ config: demoEmulatorDirectory(receiver.redirectUri) });
  profile = mkdtempSync(join(tmpdir(), "daemon-auth-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: 60_000,
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await emulator?.close();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

function consentUrl(tenant: string, state: string): string {
  return buildAdminConsentUrl({ tenantId: tenant, clientId: demoDirectory.clientId, redirectUri: receiver.redirectUri, state, authorityHost: emulator.url });
}

function daemonClient() {
  const { clientOptions } = configurationFromEnvironment(demoEnvironment(emulator, "redis://unused", receiver.redirectUri));
  return createDaemonClient({ ...clientOptions });
}

describe("admin consent page in headless Chromium", () => {
  it("shows the app and its permissions; Accept redirects with admin_consent=True and the next token carries the role", async () => {
    const client = daemonClient();
    await expect(client.acquireTokenForClient({ scopes: [GRAPH_SCOPE], tenantId: NORTHWIND.domain })).rejects.toBeInstanceOf(ServerError);

    const state = receiver.stateFor(NORTHWIND.domain);
    const page = await browser.newPage();
    await page.goto(consentUrl(NORTHWIND.domain, state));
    expect(await page.title()).toBe("Permissions requested");
    expect(await page.locator("#app-name").textContent()).toBe("Adatum Insights (multi-tenant worker)");
    expect(await page.locator("#client-id").textContent()).toBe(demoDirectory.clientId);
    expect(await page.locator("#tenant").textContent()).toBe("northwind");
    const permissions = await page.locator("#permissions li").allTextContents();
    expect(permissions).toEqual([expect.stringMatching(/^User\.Read\.All \(Microsoft Graph, application permission\)\s*Read all users' full profiles$/)]);

    await Promise.all([page.waitForURL((url) => url.href.startsWith(receiver.redirectUri)), page.getByRole("button", { name: "Accept" }).click()]);
    const landed = new URL(page.url());
    expect(Object.fromEntries(landed.searchParams)).toEqual({ admin_consent: "True", tenant: NORTHWIND.id, state });
    expect(await page.locator("h1").textContent()).toBe("Admin consent received");
    expect(await receiver.next()).toEqual({ tenant: NORTHWIND.domain, result: { granted: true, tenant: NORTHWIND.id, state } });

    // The failure above was remembered (permanent error); a new client asks again.
    const after = daemonClient();
    const token = await after.acquireTokenForClient({ scopes: [GRAPH_SCOPE], tenantId: NORTHWIND.domain });
    expect(decodeJwt(token.accessToken)).toMatchObject({ tid: NORTHWIND.id, roles: ["User.Read.All"] });
    await Promise.all([client.dispose(), after.dispose(), page.close()]);
  });

  it("Cancel redirects with error=access_denied and grants nothing", async () => {
    const state = receiver.stateFor(WOODGROVE.domain);
    const page = await browser.newPage();
    await page.goto(consentUrl(WOODGROVE.domain, state));
    await Promise.all([page.waitForURL((url) => url.href.startsWith(receiver.redirectUri)), page.getByRole("button", { name: "Cancel" }).click()]);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({
      error: "access_denied",
      error_description: "AADSTS65004: User declined to consent to access the app.",
      state,
    });
    expect(await receiver.next()).toEqual({
      tenant: WOODGROVE.domain,
      result: { granted: false, error: "access_denied", errorDescription: "AADSTS65004: User declined to consent to access the app.", state },
    });
    const client = daemonClient();
    const refused = await client.acquireTokenForClient({ scopes: [GRAPH_SCOPE], tenantId: WOODGROVE.domain }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServerError);
    expect((refused as ServerError).errorCodes).toEqual([700016]);
    await Promise.all([client.dispose(), page.close()]);
  });

  it("the receiver refuses a redirect it did not ask for", async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${receiver.redirectUri}?admin_consent=True&tenant=${NORTHWIND.id}&state=forged`);
    expect(response?.status()).toBe(400);
    expect(await page.locator("h1").textContent()).toBe("Unknown consent answer");
    // And the HTTP path of the demo reads the same page the browser does.
    const outcome = await answerAdminConsent(consentUrl(WOODGROVE.domain, receiver.stateFor(WOODGROVE.domain)), "cancel");
    expect(outcome.status).toBe(302);
    await page.close();
  });
});

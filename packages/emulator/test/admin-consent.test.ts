import { decodeJwt } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorConfig } from "../src/index.js";
import { CONTOSO, FABRIKAM, ISV, ISV_SECRET, LONELY, postToken, secretForm, testConfig } from "./helpers.js";

let emulator: Emulator;
const REDIRECT = "https://isv.example/consent/done";

function config(): EmulatorConfig {
  const base = testConfig();
  const isv = base.applications.find((app) => app.clientId === ISV)!;
  isv.requiredResourceAccess = [{ resource: "api://orders", roles: ["Orders.Read.All", "Orders.Write.All"] }];
  isv.redirectUris = [REDIRECT];
  return base;
}

beforeEach(async () => {
  emulator = await startEmulator({ config: config() });
});

afterEach(async () => {
  await emulator.close();
});

function consentUrl(tenant: string, params: Record<string, string>): string {
  return `${emulator.authority(tenant)}/adminconsent?${new URLSearchParams(params).toString()}`;
}

describe("admin consent endpoint", () => {
  it("provisions a multi-tenant app, grants its required app roles and redirects with admin_consent=True", async () => {
    const isv = secretForm({ client_id: ISV, client_secret: ISV_SECRET });
    expect((await postToken(emulator, LONELY, isv)).body.error_codes).toEqual([700016]);

    const response = await fetch(consentUrl(LONELY, { client_id: ISV, redirect_uri: REDIRECT, state: "xyz" }), { redirect: "manual" });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(location.searchParams)).toEqual({ admin_consent: "True", tenant: LONELY, state: "xyz" });

    const { status, body } = await postToken(emulator, LONELY, isv);
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token)).toMatchObject({ tid: LONELY, roles: ["Orders.Read.All", "Orders.Write.All"] });
    expect(emulator.requests.find((r) => r.path.endsWith("/adminconsent"))).toMatchObject({ method: "GET", tenant: LONELY, clientId: ISV, status: 302 });

    emulator.revoke({ tenant: LONELY, clientId: ISV });
    expect((await postToken(emulator, LONELY, isv)).body.error_codes).toEqual([700016]);
  });

  it("redirects with error=permission_denied when a required resource cannot exist in the tenant", async () => {
    emulator.addApplication({
      clientId: "aaaaaaaa-0000-4000-8000-000000000077",
      homeTenant: FABRIKAM,
      multiTenant: true,
      requiredResourceAccess: [{ resource: "https://x.example/", roles: ["Legacy.Use"] }],
    });
    const response = await fetch(consentUrl(LONELY, { client_id: "aaaaaaaa-0000-4000-8000-000000000077", redirect_uri: REDIRECT, state: "s" }), { redirect: "manual" });
    expect(response.status).toBe(302);
    const params = new URL(response.headers.get("location")!).searchParams;
    expect(params.get("error")).toBe("permission_denied");
    expect(params.get("error_description")).toContain("AADSTS650052");
    expect(params.get("state")).toBe("s");
  });

  it("shows an error page for an unregistered redirect URI, an unknown app, an unknown tenant or common", async () => {
    const cases: [string, Record<string, string>, string][] = [
      [LONELY, { client_id: ISV, redirect_uri: "https://evil.example/" }, "AADSTS50011"],
      [LONELY, { client_id: "aaaaaaaa-9999-4999-8999-999999999999" }, "AADSTS700016"],
      ["nowhere.example", { client_id: ISV }, "AADSTS90002"],
      ["common", { client_id: ISV }, "tenant id or a verified domain"],
    ];
    for (const [tenant, params, text] of cases) {
      const response = await fetch(consentUrl(tenant, params), { redirect: "manual" });
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(await response.text()).toContain(text);
    }
  });

  it("grants in the home tenant without a redirect URI and shows a confirmation page", async () => {
    const response = await fetch(consentUrl(CONTOSO, { client_id: ISV }));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Admin consent granted");
    const { body } = await postToken(emulator, CONTOSO, secretForm({ client_id: ISV, client_secret: ISV_SECRET }));
    expect(decodeJwt(body.access_token).roles).toEqual(["Orders.Read.All", "Orders.Write.All"]);
  });

  it("validates requiredResourceAccess when the app is added", () => {
    expect(() =>
      emulator.addApplication({ clientId: "aaaaaaaa-0000-4000-8000-000000000078", homeTenant: CONTOSO, requiredResourceAccess: [{ resource: "api://orders", roles: ["Nope"] }] }),
    ).toThrow(/requiredResourceAccess\[0\]\.roles\[0\]: "Nope" is not an app role/);
    // The failed add left nothing behind.
    expect(() => emulator.addApplication({ clientId: "aaaaaaaa-0000-4000-8000-000000000078", homeTenant: CONTOSO })).not.toThrow();
  });
});

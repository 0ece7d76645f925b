import { decodeJwt } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { answerAdminConsent, startEmulator, type Emulator, type EmulatorConfig } from "../src/index.js";
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
  it("serves a consent page that names the app, the tenant and the permissions, and grants nothing by itself", async () => {
    const response = await fetch(consentUrl(LONELY, { client_id: ISV, redirect_uri: REDIRECT, state: "xyz" }), { redirect: "manual" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const html = await response.text();
    expect(html).toContain("Permissions requested");
    expect(html).toContain(`<span id="client-id">${ISV}</span>`);
    expect(html).toContain(LONELY);
    expect(html).toContain("<strong>Orders.Read.All</strong> <span class=\"muted\">(api://orders, application permission)</span>");
    expect(html).toContain("<strong>Orders.Write.All</strong>");
    expect(html).not.toContain("Orders.Admin");
    expect(html).toMatch(/<button type="submit" name="decision" value="accept">Accept<\/button>/);
    expect(html).toMatch(/<button type="submit" name="decision" value="cancel">Cancel<\/button>/);
    expect(html).not.toMatch(/<(script|link|img)\b/);
    const isv = secretForm({ client_id: ISV, client_secret: ISV_SECRET });
    expect((await postToken(emulator, LONELY, isv)).body.error_codes).toEqual([700016]);
  });

  it("Accept provisions a multi-tenant app, grants its required app roles and redirects with admin_consent=True", async () => {
    const isv = secretForm({ client_id: ISV, client_secret: ISV_SECRET });
    expect((await postToken(emulator, LONELY, isv)).body.error_codes).toEqual([700016]);

    const outcome = await answerAdminConsent(consentUrl(LONELY, { client_id: ISV, redirect_uri: REDIRECT, state: "xyz" }), "accept");
    expect(outcome.status).toBe(302);
    const location = new URL(outcome.location!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(location.searchParams)).toEqual({ admin_consent: "True", tenant: LONELY, state: "xyz" });

    const { status, body } = await postToken(emulator, LONELY, isv);
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token)).toMatchObject({ tid: LONELY, roles: ["Orders.Read.All", "Orders.Write.All"] });
    expect(emulator.requests.filter((r) => r.path.endsWith("/adminconsent")).map(({ method, tenant, clientId, status }) => ({ method, tenant, clientId, status }))).toEqual([
      { method: "GET", tenant: LONELY, clientId: ISV, status: 200 },
      { method: "POST", tenant: LONELY, clientId: ISV, status: 302 },
    ]);

    emulator.revoke({ tenant: LONELY, clientId: ISV });
    expect((await postToken(emulator, LONELY, isv)).body.error_codes).toEqual([700016]);
  });

  it("Cancel redirects with error=access_denied (AADSTS65004) and the state, granting nothing", async () => {
    const outcome = await answerAdminConsent(consentUrl(LONELY, { client_id: ISV, redirect_uri: REDIRECT, state: "no thanks" }), "cancel");
    expect(outcome.status).toBe(302);
    const location = new URL(outcome.location!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: "access_denied",
      error_description: "AADSTS65004: User declined to consent to access the app.",
      state: "no thanks",
    });
    expect((await postToken(emulator, LONELY, secretForm({ client_id: ISV, client_secret: ISV_SECRET }))).body.error_codes).toEqual([700016]);
  });

  it("refuses a consent form whose anti-forgery token is missing, forged or bound to another request", async () => {
    const html = await (await fetch(consentUrl(LONELY, { client_id: ISV, redirect_uri: REDIRECT, state: "one" }))).text();
    const token = /name="consent_token" value="([^"]+)"/.exec(html)![1]!;
    const post = (fields: Record<string, string>) =>
      fetch(`${emulator.authority(LONELY)}/adminconsent`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: ISV, redirect_uri: REDIRECT, decision: "accept", ...fields }).toString(),
        redirect: "manual",
      });
    const attempts = [
      await post({ state: "one" }),
      await post({ state: "one", consent_token: `${token.split(".")[0]!}.${"A".repeat(43)}` }),
      await post({ state: "two", consent_token: token }),
      await fetch(`${emulator.authority(FABRIKAM)}/adminconsent`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: ISV, redirect_uri: REDIRECT, state: "one", decision: "accept", consent_token: token }).toString(),
        redirect: "manual",
      }),
    ];
    for (const response of attempts) {
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("This consent form was not issued for this request");
    }
    expect((await postToken(emulator, LONELY, secretForm({ client_id: ISV, client_secret: ISV_SECRET }))).body.error_codes).toEqual([700016]);
    // The genuine form still works.
    expect((await post({ state: "one", consent_token: token })).status).toBe(302);
  });

  it("escapes what the request and the configuration put on the page", async () => {
    emulator.addApplication({
      clientId: "aaaaaaaa-0000-4000-8000-000000000079",
      displayName: `<script>alert("app")</script>`,
      homeTenant: CONTOSO,
      multiTenant: true,
      redirectUris: [`${REDIRECT}?a="><b>`],
      requiredResourceAccess: [{ resource: "api://orders", roles: ["Orders.Read.All"] }],
    });
    const url = consentUrl(LONELY, { client_id: "aaaaaaaa-0000-4000-8000-000000000079", redirect_uri: `${REDIRECT}?a="><b>`, state: `"><script>x</script>` });
    const html = await (await fetch(url)).text();
    expect(html).not.toContain("<script>");
    expect(html).not.toContain('"><b>');
    expect(html).toContain("&#60;script&#62;alert(&#34;app&#34;)&#60;/script&#62;");
    const outcome = await answerAdminConsent(url, "accept");
    expect(new URL(outcome.location!).searchParams.get("state")).toBe(`"><script>x</script>`);
    expect(new URL(outcome.location!).searchParams.get("a")).toBe(`"><b>`);
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
      [LONELY, { client_id: ISV, redirect_uri: "not a url" }, "AADSTS50011"],
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
    const outcome = await answerAdminConsent(consentUrl(CONTOSO, { client_id: ISV }), "accept");
    expect(outcome.status).toBe(200);
    expect(outcome.body).toContain("Admin consent granted");
    const { body } = await postToken(emulator, CONTOSO, secretForm({ client_id: ISV, client_secret: ISV_SECRET }));
    expect(decodeJwt(body.access_token).roles).toEqual(["Orders.Read.All", "Orders.Write.All"]);
  });

  it("answerAdminConsent reports the error page of a URL that has no consent page", async () => {
    await expect(answerAdminConsent(consentUrl("nowhere.example", { client_id: ISV }), "accept")).rejects.toThrow(/HTTP 400.*AADSTS90002/);
  });

  it("validates requiredResourceAccess when the app is added", () => {
    expect(() =>
      emulator.addApplication({ clientId: "aaaaaaaa-0000-4000-8000-000000000078", homeTenant: CONTOSO, requiredResourceAccess: [{ resource: "api://orders", roles: ["Nope"] }] }),
    ).toThrow(/requiredResourceAccess\[0\]\.roles\[0\]: "Nope" is not an app role/);
    // The failed add left nothing behind.
    expect(() => emulator.addApplication({ clientId: "aaaaaaaa-0000-4000-8000-000000000078", homeTenant: CONTOSO })).not.toThrow();
  });
});

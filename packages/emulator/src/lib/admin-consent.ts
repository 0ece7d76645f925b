// The admin consent endpoint, `/{tenant}/adminconsent`, as an admin sees it: GET shows
// the consent page (the app, the tenant, the application permissions it asks for,
// Accept / Cancel); the page's form POSTs the answer back with an anti-forgery token
// bound to that request, and the endpoint redirects to the app with the outcome.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { AadstsFailure, escapeHtml, htmlPage } from "../aadsts.js";
import type { TenantConfig } from "../config.js";
import type { ApplicationState, Directory } from "./directory.js";
import { resolveTenantSegment } from "./token-endpoint.js";

/** What the endpoint answers: an HTML page or a redirect. */
export interface AdminConsentAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The `client_id` of the request, for the request log. */
  clientId?: string;
}

/** One request to the endpoint. */
export interface AdminConsentRequest {
  method: "GET" | "POST";
  /** The `{tenant}` path segment, decoded. */
  tenantSegment: string;
  query: URLSearchParams;
  /** POST only: the form body; `undefined` when it was too large. */
  body?: string | undefined;
  contentType?: string | undefined;
  directory: Directory;
  /** Emulator clock, ms since the epoch. */
  now: number;
}

/** Entra's answer on the redirect when the admin presses Cancel. */
export const DECLINED_DESCRIPTION = "AADSTS65004: User declined to consent to access the app.";

// How long a consent page may stay open before its form is refused.
const FORM_LIFETIME_MS = 60 * 60 * 1000;

// The page allows nothing but its own inline style, and no framing (clickjacking).
const PAGE_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** The parameters the consent applies to, as the GET carried them and the form echoes them. */
interface ConsentParameters {
  clientId: string;
  redirectUri: string | null;
  state: string | null;
}

/** A request whose tenant, app and redirect URI checked out. */
interface ValidConsent extends ConsentParameters {
  tenant: TenantConfig;
  app: ApplicationState;
}

/**
 * The endpoint: validates the request as Entra does before any consent (errors are
 * HTML pages, never redirects to an unchecked URI), then serves the page (GET) or
 * applies the admin's answer (POST).
 */
export class AdminConsentEndpoint {
  // Signs the forms this emulator served; a new emulator invalidates old pages.
  readonly #key = randomBytes(32);

  handle(request: AdminConsentRequest): AdminConsentAnswer {
    let form: URLSearchParams | undefined;
    if (request.method === "POST") {
      const isForm = (request.contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
      if (request.body === undefined || !isForm) {
        return pageAnswer(400, "Admin consent failed", "The consent form must be posted as application/x-www-form-urlencoded by the consent page; open the admin consent URL again.");
      }
      form = new URLSearchParams(request.body);
    }
    const source = form ?? request.query;
    const parameters = { clientId: source.get("client_id") ?? "", redirectUri: source.get("redirect_uri"), state: source.get("state") };
    const answer = this.#answer(request, parameters, form);
    return parameters.clientId === "" ? answer : { ...answer, clientId: parameters.clientId };
  }

  #answer(request: AdminConsentRequest, parameters: ConsentParameters, form: URLSearchParams | undefined): AdminConsentAnswer {
    const checked = validate(request.directory, request.tenantSegment, parameters);
    if (!("tenant" in checked)) return checked;
    if (form !== undefined && !this.#verify(form.get("consent_token") ?? "", checked, request.now)) {
      return pageAnswer(400, "Admin consent failed", "This consent form was not issued for this request by this emulator, or it is more than an hour old. Open the admin consent URL again.");
    }
    // Consent that cannot be given (single-tenant app, resource missing in the tenant) fails before the page.
    const plan = request.directory.consentPlan(checked.tenant.id, checked.app);
    if (typeof plan === "string") return outcome(checked, { error: "permission_denied", error_description: plan });
    if (form === undefined) {
      const page = consentPage(checked, plan, this.#sign(checked, request.now));
      return { status: 200, headers: { "Content-Type": "text/html; charset=utf-8", ...PAGE_HEADERS }, body: page };
    }
    const decision = form.get("decision");
    if (decision === "cancel") return outcome(checked, { error: "access_denied", error_description: DECLINED_DESCRIPTION });
    if (decision !== "accept") {
      return pageAnswer(400, "Admin consent failed", "The consent form needs decision=accept or decision=cancel; use the page's Accept or Cancel button.");
    }
    const failure = request.directory.adminConsent(checked.tenant.id, checked.app);
    return outcome(checked, failure === undefined ? { admin_consent: "True", tenant: checked.tenant.id } : { error: "permission_denied", error_description: failure });
  }

  #mac(consent: ValidConsent, issuedAt: number): Buffer {
    const bound = JSON.stringify([issuedAt, consent.tenant.id, consent.app.config.clientId, consent.redirectUri, consent.state]);
    return createHmac("sha256", this.#key).update(bound).digest();
  }

  #sign(consent: ValidConsent, now: number): string {
    return `${now}.${this.#mac(consent, now).toString("base64url")}`;
  }

  #verify(token: string, consent: ValidConsent, now: number): boolean {
    const match = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (match === null) return false;
    const issuedAt = Number(match[1]);
    if (now - issuedAt > FORM_LIFETIME_MS || issuedAt - now > FORM_LIFETIME_MS) return false;
    return timingSafeEqual(Buffer.from(match[2] ?? "", "base64url"), this.#mac(consent, issuedAt));
  }
}

function pageAnswer(status: number, title: string, text: string): AdminConsentAnswer {
  return { status, headers: { "Content-Type": "text/html; charset=utf-8", ...PAGE_HEADERS }, body: htmlPage(title, text) };
}

function validate(directory: Directory, tenantSegment: string, parameters: ConsentParameters): ValidConsent | AdminConsentAnswer {
  const { clientId, redirectUri } = parameters;
  if (["common", "organizations"].includes(tenantSegment.toLowerCase())) {
    return pageAnswer(400, "Admin consent needs a tenant", "The emulator has no interactive sign-in, so it cannot tell which tenant the admin belongs to: put the tenant id or a verified domain in the admin consent URL.");
  }
  let tenant: TenantConfig;
  try {
    tenant = resolveTenantSegment(directory, tenantSegment);
  } catch (error) {
    if (!(error instanceof AadstsFailure)) throw error;
    return pageAnswer(400, "Admin consent failed", `AADSTS${error.aadsts}: ${error.message}`);
  }
  const app = clientId === "" ? undefined : directory.application(clientId);
  if (app === undefined) {
    return pageAnswer(400, "Admin consent failed", `AADSTS700016: Application with identifier '${clientId}' was not found. Check the client_id parameter.`);
  }
  if (redirectUri !== null) {
    const registered = app.config.redirectUris;
    const absolute = /^https?:\/\/\S+$/i.test(redirectUri);
    if (!absolute || (registered !== undefined && !registered.includes(redirectUri))) {
      return pageAnswer(400, "Admin consent failed", `AADSTS50011: The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.config.clientId}'.`);
    }
  }
  return { ...parameters, tenant, app };
}

/** The redirect back to the app with `params` and the state, or a page when there is no redirect URI. */
function outcome(consent: ValidConsent, params: Record<string, string>): AdminConsentAnswer {
  if (consent.redirectUri === null) {
    const granted = params["admin_consent"] !== undefined;
    return granted
      ? pageAnswer(200, "Admin consent granted", `Tenant ${consent.tenant.id} granted application ${consent.app.config.clientId} its application permissions.`)
      : pageAnswer(params["error"] === "access_denied" ? 200 : 400, params["error"] === "access_denied" ? "Admin consent declined" : "Admin consent failed", params["error_description"] ?? "");
  }
  const target = new URL(consent.redirectUri);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  if (consent.state !== null) target.searchParams.set("state", consent.state);
  return { status: 302, headers: { Location: target.toString() }, body: "" };
}

function consentPage(consent: ValidConsent, plan: readonly { resource: ApplicationState; roles: string[] }[], token: string): string {
  const app = consent.app.config;
  const appName = app.displayName ?? app.clientId;
  const tenantName = consent.tenant.displayName ?? consent.tenant.domains?.[0] ?? consent.tenant.id;
  const permissions = plan.flatMap(({ resource, roles }) => {
    const resourceName = resource.config.displayName ?? resource.config.identifierUris?.[0] ?? resource.config.clientId;
    return roles.map((role) => {
      const description = resource.config.appRoles?.find((declared) => declared.value === role)?.description;
      return `<li><strong>${escapeHtml(role)}</strong> <span class="muted">(${escapeHtml(resourceName)}, application permission)</span>${description === undefined ? "" : `<br>${escapeHtml(description)}`}</li>`;
    });
  });
  const hidden = [
    ["client_id", app.clientId],
    ...(consent.redirectUri === null ? [] : [["redirect_uri", consent.redirectUri]]),
    ...(consent.state === null ? [] : [["state", consent.state]]),
    ["consent_token", token],
  ]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name ?? "")}" value="${escapeHtml(value ?? "")}">`)
    .join("\n");
  const action = `/${encodeURIComponent(consent.tenant.id)}/adminconsent`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Permissions requested</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}.muted{color:#605e5c}li{margin:.5rem 0}button{font:inherit;padding:.4rem 1.2rem;margin-right:.5rem}</style></head>
<body>
<h1>Permissions requested</h1>
<p>Review for your organization: <strong id="tenant">${escapeHtml(tenantName)}</strong> <span class="muted">(${escapeHtml(consent.tenant.id)})</span></p>
<p><strong id="app-name">${escapeHtml(appName)}</strong><br><span class="muted">Application (client) id <span id="client-id">${escapeHtml(app.clientId)}</span></span></p>
<p>This app would like to:</p>
<ul id="permissions">
${permissions.length === 0 ? "<li>Sign in as itself (no application permissions)</li>" : permissions.join("\n")}
</ul>
<p>Accepting grants these permissions to the app for every user and resource in your organization. Nobody else will be prompted.</p>
<form method="post" action="${escapeHtml(action)}">
${hidden}
<button type="submit" name="decision" value="cancel">Cancel</button>
<button type="submit" name="decision" value="accept">Accept</button>
</form>
<p class="muted">Served by the daemon-auth emulator.</p>
</body></html>
`;
}

// The admin consent page: the app, the tenant and the application permissions
// it asks for, with Accept / Cancel posting back a form bound to this request.
import { escapeHtml } from "../aadsts.js";
import type { TenantConfig } from "../config/types.js";
import type { ApplicationState } from "../lib/directory.js";

/** A consent request whose tenant, app and redirect URI checked out. */
export interface ValidConsent {
  clientId: string;
  redirectUri: string | null;
  state: string | null;
  tenant: TenantConfig;
  app: ApplicationState;
}

/** The page allows nothing but its own inline style, and no framing (clickjacking). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** The page for a checked request, what consent would grant, and the form's anti-forgery token. */
export function consentPage(consent: ValidConsent, plan: readonly { resource: ApplicationState; roles: string[] }[], token: string): string {
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

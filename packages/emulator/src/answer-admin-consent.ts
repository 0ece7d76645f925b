// Plays the tenant admin at the emulator's admin consent page without a browser (for
// scripts and tests): the client side of routes/admin-consent.ts.
/** What the admin consent endpoint answered to the admin's Accept or Cancel. */
export interface AdminConsentOutcome {
  /** HTTP status: 302 when it redirected to the app, 200/400 for a page. */
  readonly status: number;
  /** The redirect to the app (`…?admin_consent=True&tenant=…&state=…` or `…?error=…`), when there was one. */
  readonly location: string | undefined;
  /** The HTML page, when there was no redirect. */
  readonly body: string;
}

const ENTITY = /&#(\d+);|&(amp|lt|gt|quot);/g;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"' };

function unescapeHtml(text: string): string {
  return text.replace(ENTITY, (_, code: string | undefined, name: string | undefined) =>
    code === undefined ? (NAMED[name ?? ""] ?? "") : String.fromCharCode(Number(code)),
  );
}

function attribute(tag: string, name: string): string | undefined {
  const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  return value === undefined ? undefined : unescapeHtml(value);
}

/**
 * Plays the tenant admin at the emulator's admin consent page over plain HTTP, for
 * scripts and tests that need no browser: opens `consentUrl`, reads the consent form
 * and submits it with Accept or Cancel, as the page's buttons do. Resolves what the
 * endpoint answered; throws when the URL does not serve a consent page (the error
 * page's text is in the message).
 *
 * This only understands the emulator's page; against Entra ID an admin opens the URL
 * in a browser.
 *
 * @example
 * const outcome = await answerAdminConsent(buildAdminConsentUrl({ tenantId, clientId, redirectUri, authorityHost: emulator.url }), "accept");
 * parseAdminConsentCallback(outcome.location!); // { granted: true, tenant, state }
 */
export async function answerAdminConsent(consentUrl: string, decision: "accept" | "cancel"): Promise<AdminConsentOutcome> {
  const page = await fetch(consentUrl, { redirect: "manual" });
  const html = await page.text();
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (page.status !== 200 || form === null) {
    const text = html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
    throw new Error(`No admin consent page at that URL (HTTP ${page.status}${page.headers.get("location") === null ? "" : `, redirected to ${page.headers.get("location")}`}): ${unescapeHtml(text)}`);
  }
  const fields = new URLSearchParams();
  for (const input of form[1]?.match(/<input\b[^>]*>/g) ?? []) {
    const name = attribute(input, "name");
    if (name !== undefined) fields.append(name, attribute(input, "value") ?? "");
  }
  fields.set("decision", decision);
  const action = new URL(attribute(form[0], "action") ?? "", consentUrl);
  const answer = await fetch(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: fields.toString(),
    redirect: "manual",
  });
  return { status: answer.status, location: answer.headers.get("location") ?? undefined, body: await answer.text() };
}

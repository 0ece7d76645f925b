// The admin consent endpoint, `/{tenant}/adminconsent`, as an admin sees it: GET shows
// the consent page (the app, the tenant, the application permissions it asks for,
// Accept / Cancel); the page's form POSTs the answer back with an anti-forgery token
// bound to that request, and the endpoint redirects to the app with the outcome.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { AadstsFailure, htmlPage } from "../aadsts.js";
import type { TenantConfig } from "../config/types.js";
import type { Directory } from "../lib/directory.js";
import { resolveTenantSegment } from "../lib/tenant-segment.js";
import { html, NO_STORE, type Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import type { EmulatorRequest } from "../server/request.js";
import { consentPage, PAGE_HEADERS, type ValidConsent } from "./admin-consent-page.js";

/** Entra's answer on the redirect when the admin presses Cancel. */
export const DECLINED_DESCRIPTION = "AADSTS65004: User declined to consent to access the app.";

// How long a consent page may stay open before its form is refused.
const FORM_LIFETIME_MS = 60 * 60 * 1000;

type ConsentParameters = Pick<ValidConsent, "clientId" | "redirectUri" | "state">;

/**
 * The endpoint: validates the request as Entra does before any consent (errors are
 * HTML pages, never redirects to an unchecked URI), then serves the page (GET) or
 * applies the admin's answer (POST).
 */
export class AdminConsentRoute implements Route {
  // Signs the forms this emulator served; a new emulator invalidates old pages.
  readonly #key = randomBytes(32);

  constructor(private readonly directory: Directory) {}

  async handle(request: EmulatorRequest): Promise<Answer> {
    let form: URLSearchParams | undefined;
    if (request.method === "POST") {
      const body = await request.text();
      const isForm = (request.headers["content-type"] ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
      if (body === undefined || !isForm) {
        return pageAnswer(400, "Admin consent failed", "The consent form must be posted as application/x-www-form-urlencoded by the consent page; open the admin consent URL again.");
      }
      form = new URLSearchParams(body);
    }
    const source = form ?? request.query;
    const parameters = { clientId: source.get("client_id") ?? "", redirectUri: source.get("redirect_uri"), state: source.get("state") };
    request.note({ clientId: parameters.clientId === "" ? undefined : parameters.clientId });
    return this.#answer(request, parameters, form);
  }

  #answer(request: EmulatorRequest, parameters: ConsentParameters, form: URLSearchParams | undefined): Answer {
    const checked = validate(this.directory, request.segments[0] ?? "", parameters);
    if (!("tenant" in checked)) return checked;
    if (form !== undefined && !this.#verify(form.get("consent_token") ?? "", checked, request.now)) {
      return pageAnswer(400, "Admin consent failed", "This consent form was not issued for this request by this emulator, or it is more than an hour old. Open the admin consent URL again.");
    }
    // Consent that cannot be given (single-tenant app, resource missing in the tenant) fails before the page.
    const plan = this.directory.consentPlan(checked.tenant.id, checked.app);
    if (typeof plan === "string") return outcome(checked, { error: "permission_denied", error_description: plan });
    if (form === undefined) {
      const page = consentPage(checked, plan, this.#sign(checked, request.now));
      return html(200, page, PAGE_HEADERS);
    }
    const decision = form.get("decision");
    if (decision === "cancel") return outcome(checked, { error: "access_denied", error_description: DECLINED_DESCRIPTION });
    if (decision !== "accept") {
      return pageAnswer(400, "Admin consent failed", "The consent form needs decision=accept or decision=cancel; use the page's Accept or Cancel button.");
    }
    const failure = this.directory.adminConsent(checked.tenant.id, checked.app);
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

function pageAnswer(status: number, title: string, text: string): Answer {
  return html(status, htmlPage(title, text), PAGE_HEADERS);
}

function validate(directory: Directory, tenantSegment: string, parameters: ConsentParameters): ValidConsent | Answer {
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
function outcome(consent: ValidConsent, params: Record<string, string>): Answer {
  if (consent.redirectUri === null) {
    const granted = params["admin_consent"] !== undefined;
    return granted
      ? pageAnswer(200, "Admin consent granted", `Tenant ${consent.tenant.id} granted application ${consent.app.config.clientId} its application permissions.`)
      : pageAnswer(params["error"] === "access_denied" ? 200 : 400, params["error"] === "access_denied" ? "Admin consent declined" : "Admin consent failed", params["error_description"] ?? "");
  }
  const target = new URL(consent.redirectUri);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  if (consent.state !== null) target.searchParams.set("state", consent.state);
  return { status: 302, headers: { Location: target.toString(), ...NO_STORE }, body: "" };
}

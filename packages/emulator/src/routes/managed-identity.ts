// The managed identity endpoints of the Azure hosts, on the emulator's origin: IMDS
// (VMs, scale sets, AKS nodes; reached through AZURE_POD_IDENTITY_AUTHORITY_HOST), App
// Service / Functions / Container Apps (IDENTITY_ENDPOINT + IDENTITY_HEADER), Cloud Shell
// (MSI_ENDPOINT), Azure Arc (IDENTITY_ENDPOINT + IMDS_ENDPOINT) and Service Fabric
// (IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT). One route serves them
// all; each platform's checks and answer shapes are in managed-identity-platforms.ts.
import { randomBytes } from "node:crypto";
import { AadstsFailure } from "../aadsts.js";
import { EmulatorConfigError } from "../config/error.js";
import type { ArcKeyFiles } from "../lib/arc-key-files.js";
import type { IdentitySelector, ManagedIdentityTokens } from "../lib/managed-identity-token.js";
import { recordSecret } from "../lib/secret-ledger.js";
import { json, type Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import type { EmulatorRequest } from "../server/request.js";
import { appService, azureArc, cloudShell, imds, serviceFabric, type Platform } from "./managed-identity-platforms.js";

/** IMDS's token path; `AZURE_POD_IDENTITY_AUTHORITY_HOST` names the origin before it. */
export const IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token";
/** The App Service token path: `IDENTITY_ENDPOINT` is the emulator URL plus this. */
export const APP_SERVICE_TOKEN_PATH = "/msi/token";
/** The Cloud Shell token path (`MSI_ENDPOINT`). */
export const CLOUD_SHELL_TOKEN_PATH = "/cloud-shell/oauth2/token";
/** The Azure Arc agent's token path (`IDENTITY_ENDPOINT`): IMDS's, under its own prefix. */
export const ARC_TOKEN_PATH = `/azure-arc${IMDS_TOKEN_PATH}`;
/** The Service Fabric token path (`IDENTITY_ENDPOINT`, HTTPS only). */
export const SERVICE_FABRIC_TOKEN_PATH = `/service-fabric${IMDS_TOKEN_PATH}`;

/** The identity parameter of a request, or "several" when it names more than one. */
function selectorOf(parameters: URLSearchParams, names: Platform["selectors"]): IdentitySelector | undefined | "several" {
  const given = Object.entries(names).filter(([name]) => (parameters.get(name) ?? "") !== "");
  if (given.length > 1) return "several";
  const [entry] = given;
  return entry === undefined ? undefined : { kind: entry[1], value: parameters.get(entry[0]) ?? "" };
}

/** The path without one trailing slash: msal-node asks IMDS for `/metadata/identity/oauth2/token/`, and IMDS answers both. */
function endpointPath(request: EmulatorRequest): string {
  return request.pathname.length > 1 && request.pathname.endsWith("/") ? request.pathname.slice(0, -1) : request.pathname;
}

/** The managed identity endpoints, told apart by path. */
export class ManagedIdentityRoute implements Route {
  private readonly platforms: ReadonlyMap<string, Platform>;

  /**
   * @param identityHeader the value App Service callers present in `X-IDENTITY-HEADER` (Service Fabric's in `secret`).
   * @param arcKeys the key files of the Azure Arc challenge.
   */
  constructor(
    private readonly tokens: ManagedIdentityTokens,
    identityHeader: string,
    arcKeys: ArcKeyFiles,
  ) {
    this.platforms = new Map([
      [IMDS_TOKEN_PATH, imds],
      [APP_SERVICE_TOKEN_PATH, appService(identityHeader)],
      [CLOUD_SHELL_TOKEN_PATH, cloudShell],
      [ARC_TOKEN_PATH, azureArc(arcKeys)],
      [SERVICE_FABRIC_TOKEN_PATH, serviceFabric(identityHeader)],
    ]);
  }

  /** Whether a request is for one of the managed identity endpoints. */
  matches(request: EmulatorRequest): boolean {
    return this.platforms.has(endpointPath(request));
  }

  async handle(request: EmulatorRequest): Promise<Answer> {
    const platform = this.platforms.get(endpointPath(request));
    if (platform === undefined) throw new Error(`No managed identity endpoint at ${request.pathname}; the route table sends only matching paths here.`);
    if (request.method !== platform.method) {
      return json(405, { error: "invalid_request", error_description: `${request.method} is not supported on ${request.pathname}; use ${platform.method}.` }, { Allow: platform.method });
    }
    const parameters = await platform.parameters(request);
    const refusal = await platform.refuse(request, parameters);
    if (refusal !== undefined) return refusal;
    const selector = selectorOf(parameters, platform.selectors);
    const identity = selector === "several" ? selector : this.tokens.find(selector);
    if (typeof identity === "string") return platform.miss(identity);
    const resource = parameters.get("resource") ?? "";
    request.note({ clientId: identity.clientId, scope: resource });
    try {
      return platform.success(await this.tokens.issue(identity, resource, request.baseUrl, request.now), selector === "several" ? undefined : selector);
    } catch (error) {
      if (!(error instanceof AadstsFailure)) throw error;
      return platform.failure(error);
    }
  }
}

/** A new App Service identity header: random per emulator. */
export function newIdentityHeader(): string {
  return randomBytes(24).toString("base64url");
}

/** The managed identity sources a process can be pointed at, named as msal-node names them. */
export type ManagedIdentitySource = "imds" | "app-service" | "cloud-shell" | "arc" | "service-fabric";

const SERVED_SOURCES: readonly ManagedIdentitySource[] = ["imds", "app-service", "cloud-shell", "arc", "service-fabric"];

/** Where the managed identity endpoints are and what proves access to them. */
export interface ManagedIdentityOrigin {
  origin: string;
  identityHeader: string;
  /** SHA-1 thumbprint (hex) of the HTTPS server certificate; undefined over plain HTTP. */
  serverThumbprint: string | undefined;
}

/**
 * The environment variables msal-node and `@azure/identity` read to find a source, pointing
 * at the emulator. Throws {@link EmulatorConfigError} for a source the emulator does not serve.
 */
export function managedIdentityEnvironment(source: ManagedIdentitySource, { origin, identityHeader, serverThumbprint }: ManagedIdentityOrigin): Record<string, string> {
  // The header leaves the emulator here: from now on a test run checks it never shows in output.
  if (source === "app-service" || source === "service-fabric") recordSecret("identity header", identityHeader);
  switch (source) {
    case "imds":
      return { AZURE_POD_IDENTITY_AUTHORITY_HOST: origin };
    case "app-service":
      return { IDENTITY_ENDPOINT: `${origin}${APP_SERVICE_TOKEN_PATH}`, IDENTITY_HEADER: identityHeader };
    case "cloud-shell":
      return { MSI_ENDPOINT: `${origin}${CLOUD_SHELL_TOKEN_PATH}` };
    case "arc":
      return { IDENTITY_ENDPOINT: `${origin}${ARC_TOKEN_PATH}`, IMDS_ENDPOINT: origin };
    case "service-fabric":
      if (serverThumbprint === undefined) {
        throw new EmulatorConfigError("source", "Service Fabric's endpoint is HTTPS with a pinned certificate: start the emulator with https: true (CLI --https).");
      }
      return { IDENTITY_ENDPOINT: `${origin}${SERVICE_FABRIC_TOKEN_PATH}`, IDENTITY_HEADER: identityHeader, IDENTITY_SERVER_THUMBPRINT: serverThumbprint };
    default:
      throw new EmulatorConfigError("source", `the emulator does not serve the ${JSON.stringify(source)} managed identity source; use one of ${SERVED_SOURCES.join(", ")}.`);
  }
}

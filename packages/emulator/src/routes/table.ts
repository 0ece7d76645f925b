// The route table: which endpoint family answers which path, in order (the first
// row that holds wins). A new endpoint family is one module under routes/ and one
// row here.
import type { Directory } from "../lib/directory.js";
import type { TokenSigner } from "../lib/signing-key.js";
import type { RouteRow } from "../server/pipeline.js";
import { tenantPath, type EmulatorRequest } from "../server/request.js";
import { AdminConsentRoute } from "./admin-consent.js";
import { ExternalIssuerRoute, instanceDiscoveryRoute, TenantMetadataRoute } from "./discovery.js";
import { errorPageRoute, methodNotAllowedRoute, notFoundRoute, serviceIndexRoute } from "./errors.js";
import type { Graph } from "./graph.js";
import type { KeyVault } from "./key-vault.js";
import type { ManagedIdentityRoute } from "./managed-identity.js";
import { TOKEN_PATH, TokenRoute, type TokenRouteSettings } from "./token.js";

/** What the routes serve from: the directory, the signing key and the stateful resources. */
export interface RouteServices {
  directory: Directory;
  signer: TokenSigner;
  /** The token endpoint's settings. */
  tokens: TokenRouteSettings;
  graph: Graph;
  vault: KeyVault;
  /** The IMDS and App Service managed identity endpoints. */
  managedIdentity: ManagedIdentityRoute;
}

const first = (request: EmulatorRequest): string | undefined => request.segments[0];
const tail = (request: EmulatorRequest): string => tenantPath(request).tail;

/** The emulator's routes, in the order they are tried. */
export function routeTable(services: RouteServices): RouteRow[] {
  return [
    { when: (request) => first(request) === "error" && request.segments.length === 1 && request.method === "GET", route: errorPageRoute },
    { when: (request) => first(request) === undefined, route: serviceIndexRoute },
    { when: (request) => ExternalIssuerRoute.matches(request), route: new ExternalIssuerRoute(services.signer) },
    { when: (request) => first(request) === "v1.0", route: services.graph },
    { when: (request) => services.managedIdentity.matches(request), route: services.managedIdentity },
    { when: (request) => first(request) === "secrets", route: services.vault },
    { when: (request) => first(request) === "keys", route: services.vault.keys },
    { when: (request) => first(request) === "certificates", route: services.vault.certificates },
    // Every other path starts with a {tenant} segment.
    { when: (request) => tail(request) === TOKEN_PATH, route: new TokenRoute(services.tokens), tenantScoped: true },
    { when: (request) => tail(request) === "adminconsent" && (request.method === "GET" || request.method === "POST"), route: new AdminConsentRoute(services.directory), tenantScoped: true },
    { when: (request) => request.method !== "GET", route: methodNotAllowedRoute, tenantScoped: true },
    { when: (request) => tail(request) === "discovery/instance", route: instanceDiscoveryRoute, tenantScoped: true },
    { when: (request) => TenantMetadataRoute.matches(tail(request)), route: new TenantMetadataRoute(services.directory, services.signer), tenantScoped: true },
    { when: () => true, route: notFoundRoute, tenantScoped: true },
  ];
}

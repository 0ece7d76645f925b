// The page behind Entra's `error_uri`, and the answers for paths and methods the
// emulator does not serve.
import { errorPage } from "../aadsts.js";
import { html, json } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";

/** GET /error?code=N: what an AADSTS code means. */
export const errorPageRoute: Route = {
  handle: async (request) => html(200, errorPage(request.query.get("code"))),
};

/** `/`: names the endpoints a client should use. */
export const serviceIndexRoute: Route = {
  handle: async () =>
    json(404, {
      error: "not_found",
      error_description: "The daemon-auth emulator serves /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/discovery/v2.0/keys and /{tenant}/oauth2/v2.0/token.",
    }),
};

/** Any other method on a tenant path that is only read. */
export const methodNotAllowedRoute: Route = {
  handle: async (request) =>
    json(405, { error: "invalid_request", error_description: `${request.method} is not supported on ${request.pathname}.` }, { Allow: "GET" }),
};

/** Any other path. */
export const notFoundRoute: Route = {
  handle: async (request) => json(404, { error: "not_found", error_description: `No emulator endpoint at ${request.pathname}.` }),
};

/**
 * A bare resource URL with no path (`https://vault.azure.net`) or only a trailing
 * slash (`https://management.azure.com/`, a v1.0 resource id). `api://<id>` app id URIs
 * count too. Anything with a path is left for core to validate.
 */
const BARE_RESOURCE = /^(?:https?|api):\/\/[^/\s?#]+\/?$/i;

const DEFAULT_SUFFIX = "/.default";

/**
 * Maps the scopes an Azure SDK client passes to the `<resource>/.default` form core
 * requires. Only a bare resource URL is rewritten (by appending `/.default`, which keeps
 * the double slash Entra expects for v1.0 resources such as
 * `https://management.azure.com//.default`); every other scope passes through unchanged
 * so core's validation can reject it with its own advice.
 */
export function normalizeAzureScopes(scopes: string | readonly string[]): string[] {
  const list = typeof scopes === "string" ? [scopes] : [...scopes];
  return list.map((scope) => (typeof scope === "string" && BARE_RESOURCE.test(scope) ? `${scope}${DEFAULT_SUFFIX}` : scope));
}

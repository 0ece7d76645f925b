// One daemon process as most are written today: msal-node with its own in-memory cache,
// asking once for a token. N of these make N token requests for one key.
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";

const [authority, clientId, scope] = process.argv.slice(2);
const clientSecret = process.env["TEST_CLIENT_SECRET"];
if (authority === undefined || clientId === undefined || scope === undefined || clientSecret === undefined) {
  throw new Error("Usage: TEST_CLIENT_SECRET=… msal-child.js <authority> <client id> <scope>");
}
const msal = new ConfidentialClientApplication({
  auth: { clientId, clientSecret, authority, knownAuthorities: [new URL(authority).host] },
  system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false } },
});
const result = await msal.acquireTokenByClientCredential({ scopes: [scope] });
process.stdout.write(result === null ? "no token\n" : "token\n");

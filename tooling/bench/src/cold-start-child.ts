// One cold start, in a fresh process: the time to import a library and get its first token.
// Nothing is imported statically, so the clock starts before any library code loads.
const started = performance.now();
const args = process.argv.slice(2);
const secretOrNone = process.env["TEST_CLIENT_SECRET"];
if (args.length !== 5 || secretOrNone === undefined) {
  throw new Error("Usage: TEST_CLIENT_SECRET=… cold-start-child.js <ours|msal|identity> <authority host> <tenant> <client id> <scope>");
}
const secret = secretOrNone;
const [library, authorityHost, tenantId, clientId, scope] = args as [string, string, string, string, string];
const authority = `${authorityHost}/${tenantId}`;

/** Imports the library, then returns the call that gets its first token. */
async function load(): Promise<() => Promise<unknown>> {
  if (library === "ours") {
    const [{ createDaemonClient }, { clientSecret }] = await Promise.all([import("@daemon-auth/core"), import("@daemon-auth/credential-secret")]);
    return () => createDaemonClient({ authority, clientId: clientId, credential: clientSecret(secret) }).acquireTokenForClient({ scopes: [scope] });
  }
  if (library === "msal") {
    const { ConfidentialClientApplication, LogLevel } = await import("@azure/msal-node");
    return () =>
      new ConfidentialClientApplication({
        auth: { clientId: clientId, clientSecret: secret, authority, knownAuthorities: [new URL(authority).host] },
        system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false } },
      }).acquireTokenByClientCredential({ scopes: [scope] });
  }
  const { ClientSecretCredential } = await import("@azure/identity");
  return () =>
    new ClientSecretCredential(tenantId, clientId, secret, { authorityHost, disableInstanceDiscovery: true }).getToken(scope);
}

const firstToken = await load();
const imported = performance.now();
const token = await firstToken();
if (token === null || token === undefined) throw new Error(`${library} returned no token.`);
const done = performance.now();
process.stdout.write(`${JSON.stringify({ boot: started, imports: imported - started, firstToken: done - started })}\n`);

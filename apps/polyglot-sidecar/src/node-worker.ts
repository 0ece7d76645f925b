// A Node job that knows nothing of daemon-auth: @azure/identity's ManagedIdentityCredential.
// With IDENTITY_ENDPOINT and IDENTITY_HEADER in its environment (App Service's managed
// identity variables), the SDK asks the sidecar for tokens. Prints one JSON line with what
// the token says; never the token.
import { ManagedIdentityCredential } from "@azure/identity";

const scope = process.argv[2];
if (scope === undefined) throw new Error("Usage: node-worker.js <scope>");
const token = await new ManagedIdentityCredential().getToken(scope);
const claims = JSON.parse(Buffer.from(token.token.split(".")[1] ?? "", "base64url").toString("utf8")) as { aud: string; roles?: string[] };
process.stdout.write(
  `${JSON.stringify({ worker: "node @azure/identity", aud: claims.aud, roles: claims.roles ?? [], expires_on: Math.floor(token.expiresOnTimestamp / 1000) })}\n`,
);

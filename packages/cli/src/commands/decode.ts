import { parseCommand, UsageError } from "../lib/args.js";
import type { CommandRun } from "../lib/command.js";
import { decodeToken, tokenRoles } from "../lib/jwt.js";
import { dateWithRelative, relativeTime } from "../lib/time.js";

const USAGE = `Usage: daemon-auth decode <token | ->

Shows an access token's header and claims: times as dates, the granted roles, the
app and tenant. The signature is NOT verified: this shows what the token says, not
that it is genuine. "-" reads the token from stdin (a leading "Bearer " is dropped).

Options:
  --json      print { header, claims, signatureVerified: false }
  -h, --help  show this help

Example:
  daemon-auth token --scope api://my-api/.default | daemon-auth decode -
`;

const NOT_VERIFIED = "Signature NOT verified: this shows what the token says, not that it is genuine or meant for you.";
const TIME_CLAIMS = new Set(["iat", "nbf", "exp", "auth_time", "xms_tcdt"]);
/** Entra's `azpacr`/`appidacr`: how the client authenticated. */
const CLIENT_AUTHENTICATION: Readonly<Record<string, string>> = { "0": "none (public client)", "1": "client secret", "2": "certificate or client assertion" };

/** `daemon-auth decode`: show a token's header and claims. */
export const decode: CommandRun = async (argv, io) => {
  const parsed = parseCommand(argv, { usage: USAGE, options: { json: { type: "boolean" } }, positionals: ["token"] }, io);
  if (parsed === undefined) return 0;
  const [argument] = parsed.positionals;
  if (argument === undefined) throw new UsageError("missing <token>: pass the token, or - to read it from stdin");
  const token = (argument === "-" ? await io.readStdin() : argument).trim().replace(/^Bearer\s+/i, "");
  const { header, claims } = decodeToken(token);
  if (parsed.values.json === true) {
    io.out(`${JSON.stringify({ header, claims, signatureVerified: false }, null, 2)}\n`);
    return 0;
  }
  const now = Date.now();
  const lines = [NOT_VERIFIED, "", "Header", ...rows(header, now), "", "Claims", ...rows(claims, now), "", "Summary"];
  const appId = claims["azp"] ?? claims["appid"];
  const tenant = claims["tid"];
  // A delegated token always carries `scp`; an app-only token never does.
  const appOnly = claims["idtyp"] === "app" || claims["scp"] === undefined;
  lines.push(`  ${appOnly ? "app-only token" : "token"} of app ${text(appId ?? "(no azp/appid claim)")} in tenant ${text(tenant ?? "(no tid claim)")}`);
  const authentication = CLIENT_AUTHENTICATION[String(claims["azpacr"] ?? claims["appidacr"])];
  if (authentication !== undefined) lines.push(`  client authenticated with: ${authentication}`);
  const roles = tokenRoles(claims);
  lines.push(
    roles.length > 0
      ? `  roles (application permissions): ${roles.join(", ")}`
      : "  roles: none (no application permission on this resource was granted admin consent)",
  );
  if (typeof claims.exp === "number") {
    const expiry = new Date(claims.exp * 1000);
    lines.push(expiry.getTime() <= now ? `  EXPIRED ${relativeTime(expiry, now)}` : `  valid until ${dateWithRelative(expiry, now)}`);
  }
  io.out(`${lines.join("\n")}\n`);
  return 0;
};

function rows(object: object, now: number): string[] {
  const entries = Object.entries(object);
  const width = Math.max(0, ...entries.map(([name]) => name.length));
  return entries.map(([name, value]) => {
    const shown = TIME_CLAIMS.has(name) && typeof value === "number" ? dateWithRelative(new Date(value * 1000), now) : text(value);
    return `  ${name.padEnd(width)}  ${shown}`;
  });
}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.join(", ");
  return JSON.stringify(value);
}

// Test-only: lets a test run check that no secret the emulator handled leaked into its
// output. When DAEMON_AUTH_SECRET_LEDGER names a file (the shared vitest config sets it
// for every run), each client secret and assertion the emulator receives, each token it
// issues and each private key it generates is appended to it as one JSON line
// `{ "kind", "value" }`. The file is created 0600 and deleted when the run ends; without
// the variable nothing is written.
import { appendFileSync } from "node:fs";

/** What a ledger entry is, as the hygiene report names it. */
export type SecretKind = "client secret" | "client assertion" | "access token" | "private key" | "vault secret" | "identity header" | "arc key";

/** Appends `value` to the secret ledger, if a test run keeps one. Never throws. */
export function recordSecret(kind: SecretKind, value: string | undefined | null): void {
  const ledger = process.env["DAEMON_AUTH_SECRET_LEDGER"];
  if (ledger === undefined || ledger === "" || typeof value !== "string" || value === "") return;
  try {
    appendFileSync(ledger, `${JSON.stringify({ kind, value })}\n`, { mode: 0o600 });
  } catch {
    // The ledger is a test aid: serving tokens matters more.
  }
}

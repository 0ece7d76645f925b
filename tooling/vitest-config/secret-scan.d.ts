/** The environment variable naming the secret ledger file of a test run. */
export declare const SECRET_LEDGER_ENV: "DAEMON_AUTH_SECRET_LEDGER";
/** Ledger values shorter than this are skipped: they would match ordinary text by chance. */
export declare const MIN_LEDGER_SECRET: number;
/** The forms a leaked `secret` takes: as is, JSON-escaped, URL-encoded, inspect-escaped, long PEM lines. */
export declare function needlesOf(secret: string): { form: string; text: string }[];
/** The entries of a secret ledger file; a missing file has none. */
export declare function readLedger(path: string): { kind: string; value: string }[];
/** A scanner that finds any of `entries` (in any form) in a text, in one pass. */
export declare function secretScanner(entries: readonly { kind: string; value: string }[]): (text: string) => { kind: string; form: string }[];

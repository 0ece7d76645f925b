/** What a command reads and writes; the bin wires it to the process. */
export interface CliIo {
  /** The environment variables (`AZURE_*`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to stdout: results only (a token, a URL, JSON). */
  out(text: string): void;
  /** Writes to stderr: warnings and errors. */
  err(text: string): void;
  /** Reads all of stdin as text (for `-` arguments). */
  readStdin(): Promise<string>;
}

/** Longest stdin accepted: a token or a secret is a few KiB. */
const MAX_STDIN_BYTES = 1024 * 1024;

/** The {@link CliIo} of this process. */
export function processIo(): CliIo {
  return {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    async readStdin() {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_STDIN_BYTES) throw new Error(`stdin holds more than ${MAX_STDIN_BYTES} bytes; pipe in only the token or secret.`);
        chunks.push(chunk);
      }
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

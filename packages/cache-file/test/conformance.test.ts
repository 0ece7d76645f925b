import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeTokenCacheStore } from "@daemon-auth/conformance";
import { createFileCache } from "../src/index.js";

function freshDirectory(): { directory: string; cleanup: () => Promise<void> } {
  const directory = mkdtempSync(join(tmpdir(), "daemon-auth-file-"));
  return { directory, cleanup: async () => rmSync(directory, { recursive: true, force: true }) };
}

describeTokenCacheStore(
  "file",
  () => {
    const { directory, cleanup } = freshDirectory();
    return { store: createFileCache({ directory }), cleanup };
  },
  { lock: true },
);

describeTokenCacheStore(
  "file, encrypted",
  () => {
    const { directory, cleanup } = freshDirectory();
    return { store: createFileCache({ directory, encryptionKey: randomBytes(32) }), cleanup };
  },
  { lock: true },
);

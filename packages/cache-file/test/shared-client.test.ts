import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeSharedStoreAcquisition } from "@daemon-auth/conformance";

describeSharedStoreAcquisition("createFileCache", {
  storeModule: fileURLToPath(new URL("./fixtures/store.ts", import.meta.url)),
  createTarget() {
    const directory = mkdtempSync(join(tmpdir(), "daemon-auth-shared-"));
    return Promise.resolve({ target: directory, cleanup: () => Promise.resolve(rmSync(directory, { recursive: true, force: true })) });
  },
});

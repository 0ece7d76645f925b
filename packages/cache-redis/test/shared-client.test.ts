import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describeSharedStoreAcquisition } from "@daemon-auth/conformance";
import { startRedisServer } from "@daemon-auth/test-utils";

describeSharedStoreAcquisition("createRedisCache", {
  storeModule: fileURLToPath(new URL("./fixtures/store.ts", import.meta.url)),
  async createTarget() {
    const redis = await startRedisServer();
    return { target: `${redis.url} t-${randomUUID()}:`, cleanup: () => redis.stop() };
  },
});

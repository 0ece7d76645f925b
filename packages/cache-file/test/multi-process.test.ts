import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runNodeProcesses, startNode } from "@daemon-auth/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TokenCacheStore } from "@daemon-auth/core";
import { createFileCache } from "../src/index.js";
import { killAtRandomPoint } from "./fixtures/kill.js";
import { belongsTo, isIntact, sampleKeys } from "./fixtures/values.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
let directory: string;
const KEYS = 8;

/** Raw files first: besides whole JSON entries there may only be temporary files of killed writers. */
function expectOnlyWholeEntries(context: string): void {
  for (const name of readdirSync(directory)) {
    expect(name, context).toMatch(/^[0-9a-f]{64}\.json(\.[0-9a-f]{16}\.tmp)?$/);
    if (name.endsWith(".json")) {
      expect(() => JSON.parse(readFileSync(join(directory, name), "utf8")) as unknown, `${name} ${context}`).not.toThrow();
    }
  }
}

/** Every key reads as a miss or as an intact value written under that very key. */
async function expectEveryKeyAbsentOrOwn(store: TokenCacheStore, context: string): Promise<number> {
  let present = 0;
  for (const key of sampleKeys(KEYS)) {
    const value = await store.get(key);
    if (value === undefined) continue;
    present++;
    expect(belongsTo(value, key), `${key} ${context}`).toBe(true);
  }
  return present;
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "daemon-auth-file-mp-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe("createFileCache across processes", () => {
  it("never lets a reader see a torn value while several processes rewrite the same key", async () => {
    const results = await runNodeProcesses(4, fixture("writer.ts"), (index) => [directory, "150", `w${index}`]);
    let reads = 0;
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { reads: number; torn: number };
      expect(report.torn).toBe(0);
      reads += report.reads;
    }
    expect(reads).toBeGreaterThan(0);
    const final = await createFileCache({ directory }).get("shared");
    expect(final !== undefined && isIntact(final)).toBe(true);
  });

  it("leaves every entry readable or absent when a writer is killed with SIGKILL at random points", async () => {
    const key = randomBytes(32).toString("base64");
    for (const [round, encryptionKey] of [undefined, undefined, undefined, key, key, key].entries()) {
      const child = startNode(fixture("crash-writer.ts"), [directory, `c${round}`, ...(encryptionKey ? [encryptionKey] : [])]);
      await child.waitForOutput("ready");
      await killAtRandomPoint(child, 100);

      // First the raw files: anything besides whole entries must be a temporary file.
      for (const name of readdirSync(directory)) {
        expect(name).toMatch(/^[0-9a-f]{64}\.json(\.[0-9a-f]{16}\.tmp)?$/);
        if (name.endsWith(".json")) {
          expect(() => JSON.parse(readFileSync(join(directory, name), "utf8")) as unknown, `${name} after kill #${round}`).not.toThrow();
        }
      }
      const store = createFileCache({ directory, ...(encryptionKey ? { encryptionKey } : {}) });
      for (let index = 0; index < 10; index++) {
        const value = await store.get(`key-${index}`);
        if (value !== undefined) expect(isIntact(value), `key-${index} after kill #${round}`).toBe(true);
      }
    }
  });

  it("never serves a value under another key while several processes write and read many keys", { timeout: 60_000 }, async () => {
    const results = await runNodeProcesses(4, fixture("keyed-writer.ts"), (index) => [directory, `w${index}`, String(KEYS), "120"], {
      timeoutMs: 60_000,
    });
    let reads = 0;
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "") as { reads: number; wrong: number };
      expect(report.wrong).toBe(0);
      reads += report.reads;
    }
    expect(reads).toBeGreaterThan(0);
    expectOnlyWholeEntries("after the writers finished");
    expect(await expectEveryKeyAbsentOrOwn(createFileCache({ directory }), "after the writers finished")).toBe(KEYS);
  });

  it("keeps every key absent or holding its own value when concurrent writers are killed with SIGKILL at random points", { timeout: 90_000 }, async () => {
    const encryptionKey = randomBytes(32).toString("base64");
    for (const [round, encrypted] of [false, false, true, true].entries()) {
      const extra = encrypted ? [encryptionKey] : [];
      const writers = Array.from({ length: 3 }, (_, index) =>
        startNode(fixture("keyed-writer.ts"), [directory, `r${round}w${index}`, String(KEYS), "", ...extra]),
      );
      await Promise.all(writers.map((writer) => writer.waitForOutput("ready")));
      // Each writer dies at its own random moment.
      await Promise.all(writers.map((writer) => killAtRandomPoint(writer, 150)));
      const context = `after kill round ${round}`;
      expectOnlyWholeEntries(context);
      const store = createFileCache({ directory, ...(encrypted ? { encryptionKey } : {}) });
      const present = await expectEveryKeyAbsentOrOwn(store, context);
      // Encrypted rounds read plaintext entries of earlier rounds as misses; the first plain round wrote some.
      if (round === 0) expect(present).toBeGreaterThan(0);
    }
  });

  it("gives the lock to one process at a time under contention", async () => {
    const results = await runNodeProcesses(4, fixture("locker.ts"), [directory, "60"]);
    let held = 0;
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { held: number; overlaps: number };
      expect(report.overlaps).toBe(0);
      held += report.held;
    }
    expect(held).toBeGreaterThan(0);
  });

  it("lets another process take a lock whose holder was killed, once its ttl passed", async () => {
    const holder = startNode(fixture("hold-lock.ts"), [directory, "400"]);
    await holder.waitForOutput("locked");
    holder.kill("SIGKILL");
    await holder.exited;
    const store = createFileCache({ directory });
    expect(await store.lock!("shared", { ttlMs: 10_000 })).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await store.lock!("shared", { ttlMs: 10_000 })).toBeDefined();
  });

  it("gives a stale lock to exactly one of many processes that break it at the same moment", async () => {
    const lockFile = join(directory, `${createHash("sha256").update("shared").digest("hex")}.lock`);
    writeFileSync(lockFile, JSON.stringify({ owner: "dead", expiresAt: Date.now() - 1000, pid: 1 }), { mode: 0o600 });
    // The go file is the starting gun: every child has loaded before any of them tries.
    const barrier = mkdtempSync(join(tmpdir(), "daemon-auth-barrier-"));
    const children = Array.from({ length: 6 }, () => startNode(fixture("race-lock.ts"), [directory, barrier]));
    try {
      await Promise.all(children.map((child) => child.waitForOutput("ready")));
      writeFileSync(join(barrier, "go"), "");
      const results = await Promise.all(children.map((child) => child.exited));
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      expect(results.map((result) => result.stdout).filter((output) => output.includes("got"))).toHaveLength(1);
    } finally {
      for (const child of children) child.kill("SIGKILL");
      rmSync(barrier, { recursive: true, force: true });
    }
  });
});

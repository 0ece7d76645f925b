import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort, runNodeProcesses, spawnNode, startNode, startRedisServer } from "../src/index.js";

const echo = fileURLToPath(new URL("./fixtures/echo.ts", import.meta.url));

describe("freePort", () => {
  it("returns a port that can be bound on 127.0.0.1", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});

describe("node processes", () => {
  it("runs a TypeScript child with env and reports output and exit code", async () => {
    const result = await spawnNode(echo, ["one", "3"], { env: { ECHO_VALUE: "x" } });
    expect(result.code).toBe(3);
    expect(result.stdout.trim()).toBe("ready one x");
  });

  it("runs many children in parallel, in order", async () => {
    const results = await runNodeProcesses(3, echo, (index) => [String(index)]);
    expect(results.map((result) => result.stdout.trim())).toEqual(["ready 0 ", "ready 1 ", "ready 2 "]);
  });

  it("kills a child that outlives its timeout instead of hanging", async () => {
    await expect(spawnNode(echo, ["slow", "hang"], { timeoutMs: 3000 })).rejects.toThrow(/did not exit within 3000 ms/);
  });

  it("waits for output and kills with a signal", async () => {
    const child = startNode(echo, ["k", "hang"]);
    await child.waitForOutput("ready k");
    child.kill("SIGKILL");
    const result = await child.exited;
    expect(result.signal).toBe("SIGKILL");
  });
});

describe("startRedisServer", () => {
  it("starts, stops, restarts on the same port, and pauses", async () => {
    const redis = await startRedisServer({ args: ["--maxmemory", "2mb"] });
    try {
      expect(redis.port).not.toBe(6379);
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await redis.command("SET", "k", "v")).toBe("OK");
      expect(await redis.command("GET", "k")).toBe("v");
      expect(await redis.command("CONFIG", "GET", "maxmemory")).toEqual(["maxmemory", String(2 * 1024 * 1024)]);
      await expect(redis.command("NOPE")).rejects.toThrow(/unknown command/);

      await redis.stop();
      expect(redis.running).toBe(false);
      await expect(redis.command("PING")).rejects.toThrow();

      await redis.restart();
      expect(redis.running).toBe(true);
      expect(await redis.command("GET", "k")).toBeNull();

      redis.pause();
      await expect(redis.command("PING")).rejects.toThrow(/did not answer/);
      redis.resume();
      expect(await redis.command("PING")).toBe("PONG");
    } finally {
      await redis.stop();
    }
  });

  it("says how to install redis-server when the binary is missing", async () => {
    await expect(startRedisServer({ bin: "/nonexistent/redis-server" })).rejects.toThrow(/apt-get install redis-server/);
  });
});

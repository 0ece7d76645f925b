import { connect, createServer } from "node:net";
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
    expect(results.map((result) => result.stdout.trim())).toEqual(["ready 0", "ready 1", "ready 2"]);
  });

  it("kills a child that outlives its timeout instead of hanging", async () => {
    await expect(spawnNode(echo, ["slow", "hang"], { timeoutMs: 1500 })).rejects.toThrow(/did not exit within 1500 ms/);
  });

  it("ends a child whose parent was killed with SIGKILL", async () => {
    const owner = startNode(fileURLToPath(new URL("./fixtures/child-owner.ts", import.meta.url)));
    await owner.waitForOutput(/pid \d+/);
    const pid = Number(/pid (\d+)/.exec(owner.stdout())?.[1]);
    owner.kill("SIGKILL");
    await owner.exited;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 5_000;
    while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive()).toBe(false);
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

  it("waits for a server that requires a password", async () => {
    const redis = await startRedisServer({ args: ["--requirepass", "pw"] });
    try {
      await expect(redis.command("PING")).rejects.toThrow(/NOAUTH/);
    } finally {
      await redis.stop();
    }
  });

  it("does not outlive a test process that is killed with SIGKILL", async () => {
    const owner = startNode(fileURLToPath(new URL("./fixtures/redis-owner.ts", import.meta.url)));
    await owner.waitForOutput(/port \d+/);
    const port = Number(/port (\d+)/.exec(owner.stdout())?.[1]);
    owner.kill("SIGKILL");
    await owner.exited;
    const deadline = Date.now() + 5_000;
    let listening = true;
    while (listening && Date.now() < deadline) {
      listening = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      });
      if (listening) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(listening).toBe(false);
  });

  it("says how to install redis-server when the binary is missing", async () => {
    await expect(startRedisServer({ bin: "/nonexistent/redis-server" })).rejects.toThrow(/apt-get install redis-server/);
  });
});

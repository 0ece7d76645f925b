import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { withDeadline } from "../src/lib/http.js";

describe("withDeadline", () => {
  it("leaves nothing attached to a long-lived parent once disposed", () => {
    const parent = new AbortController().signal;
    for (let i = 0; i < 100; i++) withDeadline(parent, 60_000).dispose();
    expect(getEventListeners(parent, "abort")).toHaveLength(0);
  });

  it("aborts with a TimeoutError after the deadline, and says so", async () => {
    const deadline = withDeadline(new AbortController().signal, 10);
    await new Promise((resolve) => deadline.signal.addEventListener("abort", resolve));
    expect(deadline.timedOut()).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe("TimeoutError");
    deadline.dispose();
  });

  it("follows the parent, including one aborted before the call", () => {
    const parent = new AbortController();
    const deadline = withDeadline(parent.signal, 60_000);
    parent.abort(new Error("disposed"));
    expect([deadline.signal.aborted, deadline.timedOut(), (deadline.signal.reason as Error).message]).toEqual([true, false, "disposed"]);
    deadline.dispose();
    const late = withDeadline(parent.signal, 60_000);
    expect(late.signal.aborted).toBe(true);
    late.dispose();
  });
});

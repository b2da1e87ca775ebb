import { describe, expect, it } from "vitest";
import { InProcessBus, createInProcessHub } from "../../platform/in-process-bus.ts";
import { waitFor } from "../support/wait.ts";
import { eventBusContract } from "../contract/event-bus.contract.ts";

let n = 0;
eventBusContract("in-process", () => {
  const hub = createInProcessHub();
  return {
    createBus: async () => new InProcessBus({ hub }),
    freshTopic: async (label) => `t-${label}-${++n}`,
  };
});

describe("in-process bus with awaitConsumers", () => {
  it("resolves publish only after every live group has committed the record", async () => {
    const bus = new InProcessBus({ awaitConsumers: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    let entered = false;
    await bus.subscribe("t", { groupId: "slow" }, async (r) => {
      entered = true;
      await gate;
      seen.push(r.value);
    });
    let published = false;
    const p = bus.publish("t", [{ key: "k", value: "v" }]).then(() => (published = true));
    await waitFor(() => entered, { what: "handler running" });
    expect(published).toBe(false);
    release();
    await p;
    expect(seen).toEqual(["v"]);
    await bus.close();
  });

  it("does not wait for groups without a live member, and rejects waiters when the bus closes", async () => {
    const bus = new InProcessBus({ awaitConsumers: true });
    const sub = await bus.subscribe("t", { groupId: "gone" }, async () => {});
    await sub.close();
    await bus.publish("t", [{ key: "k", value: "nobody listening" }]);
    await bus.subscribe("t", { groupId: "stuck" }, () => new Promise(() => {}));
    const pending = bus.publish("t", [{ key: "k", value: "never committed" }]);
    const closing = bus.close();
    await expect(pending).rejects.toThrow("closed before committing");
    await closing; // bounded even though the handler never returns
  });
  it("stops waiting for a consumer that cannot commit when the publisher's signal aborts, keeping the record", async () => {
    const bus = new InProcessBus({ awaitConsumers: true });
    let healthy = false;
    const seen: string[] = [];
    await bus.subscribe("t", { groupId: "failing" }, async (r) => {
      if (!healthy) throw new Error("Database is down");
      seen.push(r.value);
    });
    const stop = new AbortController();
    const pending = bus.publish("t", [{ key: "k", value: "kept" }], { signal: stop.signal });
    stop.abort(new Error("Shutting down"));
    await expect(pending).rejects.toThrow("Shutting down");
    await expect(bus.publish("t", [{ key: "k", value: "x" }], { signal: stop.signal })).rejects.toThrow("Shutting down");
    healthy = true; // the record was in the log all along: delivered once the consumer recovers
    await waitFor(() => seen.includes("kept"), { timeoutMs: 10_000, what: "the record after recovery" });
    await bus.close();
  });
});

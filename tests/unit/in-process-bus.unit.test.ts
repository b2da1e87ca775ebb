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
});

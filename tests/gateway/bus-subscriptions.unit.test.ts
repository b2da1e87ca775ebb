import { describe, expect, it } from "vitest";
import type { Subscription } from "../../platform/event-bus.ts";
import { startBusSubscriptions } from "../../platform/bus-subscriptions.ts";
import { createLogger } from "../../platform/logger.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("test", "silent");
const fast = { initialMs: 5, maxMs: 20, jitter: 0 };

function subscription(closed: string[], name: string): Subscription {
  return { close: async () => void closed.push(name) };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("startBusSubscriptions", () => {
  it("retries a failing subscription until it joins, without holding up the others", async () => {
    const closed: string[] = [];
    let attempts = 0;
    const never = deferred<Subscription>();
    const subs = startBusSubscriptions(
      {
        flaky: async () => {
          attempts += 1;
          if (attempts < 4) throw new Error("Kafka is away");
          return subscription(closed, "flaky");
        },
        stuck: () => never.promise,
      },
      log,
      fast,
    );
    expect(subs.states()).toEqual({ flaky: "joining", stuck: "joining" });
    await waitFor(() => subs.states().flaky === "joined", { timeoutMs: 5_000, what: "flaky joined" });
    expect(attempts).toBe(4);
    // The stuck one neither blocked the flaky one nor blocks close.
    expect(subs.states().stuck).toBe("joining");
    await subs.close();
    expect(closed).toEqual(["flaky"]);
  });

  it("closes a subscription that completes after close, and stops retrying", async () => {
    const closed: string[] = [];
    const late = deferred<Subscription>();
    let failing = 0;
    const subs = startBusSubscriptions(
      {
        late: () => late.promise,
        failing: async () => {
          failing += 1;
          throw new Error("refused");
        },
      },
      log,
      fast,
    );
    await waitFor(() => failing >= 2, { timeoutMs: 5_000, what: "a retry" });
    await subs.close();
    const triesAtClose = failing;
    late.resolve(subscription(closed, "late"));
    await waitFor(() => closed.includes("late"), { timeoutMs: 5_000, what: "the late subscription closed" });
    await new Promise((r) => setTimeout(r, 50)); // a retry, were one still scheduled, would run here
    expect(failing).toBe(triesAtClose);
    expect(subs.states().late).toBe("joining");
  });
});

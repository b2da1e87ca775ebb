import { describe, expect, it } from "vitest";
import { OfflineBuffer, type BufferedMessage } from "../../firmware-sim/offline-buffer.ts";
import type { UpstreamType } from "../../protocol/index.ts";

const msg = (type: UpstreamType, n: number): BufferedMessage => ({ type, topic: `t/${type}`, payload: String(n) });

describe("firmware-sim offline buffer", () => {
  it("keeps messages in the order they were produced and empties on drain", () => {
    const b = new OfflineBuffer(10);
    b.push(msg("charging_started", 1));
    b.push(msg("meter", 2));
    b.push(msg("charging_stopped", 3));
    expect(b.drain().map((m) => m.payload)).toEqual(["1", "2", "3"]);
    expect(b.size).toBe(0);
  });

  it("does not buffer heartbeats: liveness replayed later means nothing", () => {
    const b = new OfflineBuffer(10);
    b.push(msg("heartbeat", 1));
    expect(b.size).toBe(0);
    expect(b.stats().skipped).toBe(1);
  });

  it("when full, evicts the oldest lowest-priority message, so transactions survive a long outage", () => {
    const b = new OfflineBuffer(4);
    b.push(msg("charging_started", 1));
    b.push(msg("meter", 2));
    b.push(msg("status", 3));
    b.push(msg("meter", 4));
    b.push(msg("meter", 5)); // evicts status 3
    b.push(msg("charging_stopped", 6)); // evicts meter 2
    b.push(msg("command_result", 7)); // evicts meter 4
    expect(b.drain().map((m) => m.payload)).toEqual(["1", "5", "6", "7"]);
    expect(b.stats()).toMatchObject({ peak: 4, dropped: { status: 1, meter: 2 } });
  });

  it("refuses a lower-priority newcomer when only transactions are left, and stays bounded", () => {
    const b = new OfflineBuffer(2);
    b.push(msg("charging_started", 1));
    b.push(msg("charging_stopped", 2));
    b.push(msg("meter", 3));
    expect(b.drain().map((m) => m.payload)).toEqual(["1", "2"]);
    expect(b.stats().dropped).toEqual({ meter: 1 });
    for (let i = 0; i < 100; i++) b.push(msg("command_result", i));
    expect(b.size).toBe(2);
  });
});

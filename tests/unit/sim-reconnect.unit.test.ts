import { EventEmitter } from "node:events";
import type { MqttClient } from "mqtt";
import { describe, expect, it } from "vitest";
import { jitteredReconnect } from "../../firmware-sim/reconnect.ts";

/** Just what jitteredReconnect touches of an mqtt.js client: its options, events and stream. */
function fakeClient() {
  const client = Object.assign(new EventEmitter(), { options: { reconnectPeriod: 1_000 }, connected: true, destroyed: 0 });
  Object.assign(client, { stream: { destroy: () => (client.destroyed += 1) } });
  return client;
}

describe("firmware-sim jittered reconnect backoff", () => {
  it("grows each retry delay exponentially within the jitter band, up to the cap, and resets on connect", () => {
    const client = fakeClient();
    jitteredReconnect(client as unknown as MqttClient, { initialMs: 100, maxMs: 2_000, jitter: 0.5 });
    const delays = [client.options.reconnectPeriod];
    for (let i = 0; i < 8; i++) {
      client.emit("reconnect");
      delays.push(client.options.reconnectPeriod);
    }
    delays.forEach((d, i) => {
      const nominal = Math.min(2_000, 100 * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(nominal * 0.5);
      expect(d).toBeLessThanOrEqual(nominal * 1.5);
    });
    client.emit("connect");
    expect(client.options.reconnectPeriod).toBeLessThanOrEqual(150);
  });

  it("spreads a fleet's retries: a thousand clients do not all pick the same delay", () => {
    const first = new Set<number>();
    for (let i = 0; i < 1_000; i++) {
      const c = fakeClient();
      jitteredReconnect(c as unknown as MqttClient, { initialMs: 1_000, jitter: 0.5 });
      first.add(c.options.reconnectPeriod);
    }
    expect(first.size).toBeGreaterThan(500);
  });

  it("an outage holds the link down for its duration: the next retry is armed with it", () => {
    const client = fakeClient();
    const link = jitteredReconnect(client as unknown as MqttClient);
    expect(link.holdOffline(4_000)).toBe(true);
    expect(client.destroyed).toBe(1);
    expect(client.options.reconnectPeriod).toBe(4_000);
    client.connected = false;
    expect(link.holdOffline(1_000)).toBe(false); // already down: nothing to cut
  });
});

import type { MqttClient } from "mqtt";
import { Backoff } from "../platform/backoff.ts";

export interface ReconnectOptions {
  /** First retry delay; doubles per failed attempt. */
  initialMs?: number;
  maxMs?: number;
  /** 0..1, share of each delay that is randomised. */
  jitter?: number;
}

export interface ReconnectControl {
  /** Cuts the link without DISCONNECT and keeps it down for `ms`, as a network outage would. */
  holdOffline(ms: number): boolean;
}

/**
 * Jittered exponential backoff on top of mqtt.js's reconnect loop. mqtt.js retries on a fixed
 * `reconnectPeriod`, so after a gateway restart a whole site would reconnect in lock-step, every
 * second, into a broker that is still starting. mqtt.js reads `options.reconnectPeriod` each
 * time it schedules a retry (after a close, the timer is re-armed from that value), so setting it
 * before each attempt is enough; its outgoing store of in-flight QoS 1 messages is kept across
 * these retries, unlike `client.reconnect()` without arguments, which replaces the stores.
 */
export function jitteredReconnect(client: MqttClient, options: ReconnectOptions = {}): ReconnectControl {
  const backoff = new Backoff({ initialMs: options.initialMs ?? 1_000, maxMs: options.maxMs ?? 30_000, jitter: options.jitter ?? 0.5 });
  client.options.reconnectPeriod = backoff.next();
  client.on("connect", () => {
    backoff.reset();
    client.options.reconnectPeriod = backoff.next();
  });
  // Emitted just before each attempt; if it fails, the next wait is this longer one.
  client.on("reconnect", () => {
    client.options.reconnectPeriod = backoff.next();
  });
  return {
    holdOffline(ms: number): boolean {
      if (!client.connected) return false;
      // The retry timer armed by the coming `close` uses this period: the link stays down for `ms`.
      client.options.reconnectPeriod = Math.max(1, Math.round(ms));
      client.stream.destroy();
      return true;
    },
  };
}

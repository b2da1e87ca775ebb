import type { Aedes, Client } from "aedes";
import type { Clock } from "../platform/clock.ts";
import type { PresenceEvent } from "../protocol/index.ts";
import type { DurableQueue } from "./queue/durable-queue.ts";
import { encodeQueueRecord } from "./queue-record.ts";

export interface PresenceDeps {
  broker: Aedes;
  queue: DurableQueue;
  gatewayId: string;
  clock: Clock;
  onChange(connected: number): void;
  onTakeover(cpId: string): void;
}

/**
 * Online/offline events go through the same disk queue as the charger's own messages, so
 * Central sees them in order with them (one key, one partition). When a second connection takes
 * over a client id, aedes closes the old one afterwards; its disconnect must not mark the
 * charger offline while the new connection is live.
 */
export function trackPresence(deps: PresenceDeps): void {
  const { broker } = deps;
  const live = new Map<string, Client>();

  const emit = (cpId: string, online: boolean) => {
    const event: PresenceEvent = { kind: "presence", cpId, online, gatewayId: deps.gatewayId, at: new Date(deps.clock.now()).toISOString() };
    // Not awaited: presence is advisory and must never hold up the broker.
    void deps.queue.append(encodeQueueRecord({ topic: "events", key: cpId, value: JSON.stringify(event) })).durable.catch(() => {});
  };

  broker.on("clientReady", (client) => {
    if (live.has(client.id) && live.get(client.id) !== client) deps.onTakeover(client.id);
    live.set(client.id, client);
    emit(client.id, true);
    deps.onChange(live.size);
  });

  broker.on("clientDisconnect", (client) => {
    if (live.get(client.id) !== client) return; // an old connection replaced by a takeover
    live.delete(client.id);
    emit(client.id, false);
    deps.onChange(live.size);
  });
}

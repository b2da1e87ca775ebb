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
 * Central sees them in order with them (one key, one partition).
 *
 * Takeover (MQTT-3.1.4-2): when an authenticated connection arrives with a client id that is
 * already connected, aedes first closes the old connection, which emits `clientDisconnect` for
 * it, and then, synchronously in the same call, registers the new client, which emits `client`.
 * The charger never went offline, so the old connection's offline event is held back for one
 * microtask: if `client` for the same id arrives meanwhile it was a takeover (counted, no
 * offline); otherwise the offline event is emitted as usual.
 */
export function trackPresence(deps: PresenceDeps): void {
  const { broker } = deps;
  const live = new Map<string, Client>();
  const leaving = new Map<string, Client>();

  const emit = (cpId: string, online: boolean) => {
    const event: PresenceEvent = { kind: "presence", cpId, online, gatewayId: deps.gatewayId, at: new Date(deps.clock.now()).toISOString() };
    // Not awaited: presence is advisory and must never hold up the broker.
    void deps.queue.append(encodeQueueRecord({ topic: "events", key: cpId, value: JSON.stringify(event) })).durable.catch(() => {});
  };

  // `client` fires when aedes registers a connection, right after it closed any predecessor.
  broker.on("client", (client) => {
    if (!leaving.has(client.id)) return;
    leaving.delete(client.id);
    deps.onTakeover(client.id);
  });

  broker.on("clientReady", (client) => {
    live.set(client.id, client);
    emit(client.id, true);
    deps.onChange(live.size);
  });

  broker.on("clientDisconnect", (client) => {
    if (live.get(client.id) !== client) return; // never got ready, or already replaced
    live.delete(client.id);
    deps.onChange(live.size);
    leaving.set(client.id, client);
    queueMicrotask(() => {
      if (leaving.get(client.id) !== client) return; // taken over: the new connection is the charger
      leaving.delete(client.id);
      emit(client.id, false);
    });
  });
}

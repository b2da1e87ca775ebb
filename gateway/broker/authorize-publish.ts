import type { Client, PublishPacket } from "aedes";
import { parseTopic } from "../../protocol/index.ts";
import type { createIngest } from "../ingest/ingest.ts";

/** An MQTT charger is one charge point with one connector: its own (docs/ocpp.md names only boxes). */
const MQTT_ORIGIN = { transport: "mqtt" } as const;

export interface AuthorizePublishDeps {
  /** The transport-independent ingest (gateway/ingest/ingest.ts). */
  ingest: ReturnType<typeof createIngest>;
  onRefused(cpId: string, topic: string): void;
}

/**
 * The MQTT adapter over the gateway's ingest, run before aedes sends PUBACK: a delayed callback
 * here delays the PUBACK, whereas the `published` hook runs after it and would be too late.
 * - Only `chargebridge/v1/{ownCpId}/up/{type}`; anything else is refused, which in MQTT 3.1.1
 *   closes the connection (there is no negative PUBACK before MQTT 5).
 * - Everything else goes to ingest, which takes the queue's sequence number synchronously (one
 *   client's concurrently handled packets keep their order); PUBACK waits for its fsync.
 */
export function createAuthorizePublish(deps: AuthorizePublishDeps) {
  return (client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void => {
    if (!client) return done(null); // the gateway's own publishes: commands going down
    const topic = parseTopic(packet.topic);
    if (!topic || topic.direction !== "up" || topic.cpId !== client.id) {
      deps.onRefused(client.id, packet.topic);
      return done(new Error(`Not authorized to publish to ${packet.topic}`));
    }
    packet.retain = false; // charger messages are events, not state for the broker to keep
    deps.ingest(client.id, topic.type, packet.payload, MQTT_ORIGIN).durable.then(
      () => done(null),
      (error: Error) => done(error),
    );
  };
}

import type { Client, PublishPacket } from "aedes";
import type { Clock } from "../../platform/clock.ts";
import { decodeUpstream, parseTopic, type DeadLetter, type UpEvent } from "../../protocol/index.ts";
import type { DurableQueue } from "../queue/durable-queue.ts";
import { encodeQueueRecord, type QueueRecord } from "../queue-record.ts";

export interface AuthorizePublishDeps {
  queue: DurableQueue;
  gatewayId: string;
  clock: Clock;
  maxPayloadBytes: number;
  onAccepted(type: string, latencyMs: number): void;
  onInvalid(cpId: string, reason: string): void;
  onRefused(cpId: string, topic: string): void;
}

/**
 * The gateway's whole upstream policy, run before aedes sends PUBACK: a delayed callback here
 * delays the PUBACK, whereas the `published` hook runs after it and would be too late.
 * - Only `chargebridge/v1/{ownCpId}/up/{type}`; anything else is refused, which in MQTT 3.1.1
 *   closes the connection (there is no negative PUBACK before MQTT 5).
 * - A valid message becomes an events record, a malformed one a dead letter; both are appended to
 *   the disk queue (the sequence number is taken synchronously, so one client's concurrently
 *   handled packets keep their order) and PUBACK waits until that append is fsynced.
 * - A malformed message is acknowledged too: refusing it would disconnect the charger and block
 *   the good messages queued behind it.
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
    const started = performance.now();
    const record = toQueueRecord(deps, client.id, topic.type, packet.payload);
    if (record.topic === "deadLetters") deps.onInvalid(client.id, JSON.parse(record.value).reason);
    const { durable } = deps.queue.append(encodeQueueRecord(record));
    durable.then(
      () => {
        deps.onAccepted(topic.type, performance.now() - started);
        done(null);
      },
      (error: Error) => done(error),
    );
  };
}

function toQueueRecord(deps: AuthorizePublishDeps, cpId: string, type: string, payload: Buffer | string): QueueRecord {
  const at = new Date(deps.clock.now()).toISOString();
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const decoded =
    bytes.byteLength > deps.maxPayloadBytes
      ? ({ ok: false, reason: `payload exceeds ${deps.maxPayloadBytes} bytes` } as const)
      : decodeUpstream(type, bytes);
  if (decoded.ok) {
    const event: UpEvent = { kind: "up", cpId, type, payload: decoded.value.payload, gatewayId: deps.gatewayId, receivedAt: at };
    return { topic: "events", key: cpId, value: JSON.stringify(event) };
  }
  const letter: DeadLetter = {
    source: "gateway",
    reason: decoded.reason,
    topic: `chargebridge/v1/${cpId}/up/${type}`,
    cpId,
    // Keep enough of the raw input to diagnose it, never an unbounded copy.
    raw: new TextDecoder().decode(bytes.subarray(0, 4096)),
    at,
  };
  return { topic: "deadLetters", key: cpId, value: JSON.stringify(letter) };
}

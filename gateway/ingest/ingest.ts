import type { Clock } from "../../platform/clock.ts";
import { recordBytes } from "../../platform/record-bytes.ts";
import { decodeUpstream, type EventOrigin, type UpEvent } from "../../protocol/index.ts";
import type { DurableQueue } from "../queue/durable-queue.ts";
import { encodeQueueRecord, type QueueRecord } from "../queue-record.ts";
import { encodeDeadLetter } from "../../protocol/dead-letter-encoding.ts";

export interface IngestDeps {
  queue: DurableQueue;
  gatewayId: string;
  clock: Clock;
  maxPayloadBytes: number;
  /** Largest events record (recordBytes) the forwarder will send; a larger one is dead-lettered here. */
  maxRecordBytes: number;
  /** Per-charger dead-letter budget (dead-letter-limit.ts); false: count it, do not queue it. */
  admitDeadLetter(cpId: string): boolean;
  onAccepted(type: string, latencyMs: number): void;
  onInvalid(cpId: string, reason: string): void;
  onDeadLetterLimited(cpId: string, reason: string): void;
}

export type IngestOutcome = "accepted" | "dead_lettered" | "rate_limited";

/**
 * The gateway's ingest of one upstream charger message, whatever the transport (the MQTT adapter
 * today, an OCPP handler later): valid becomes an events record, malformed a bounded dead letter,
 * and either is appended to the disk queue. The sequence number is taken synchronously, so
 * messages ingested in call order keep that order; `durable` resolves once the record is fsynced,
 * and only then may the transport acknowledge. A malformed message is acknowledged too: refusing
 * it would disconnect the charger and block the good messages queued behind it. A charger over
 * its dead-letter budget is acknowledged at once and its garbage only counted.
 */
export function createIngest(deps: IngestDeps) {
  /** `origin`: the transport adapter's facts about the charger, stamped on the envelope. */
  return (cpId: string, type: string, payload: Uint8Array | string, origin?: EventOrigin): { outcome: IngestOutcome; durable: Promise<void> } => {
    const started = performance.now();
    const at = new Date(deps.clock.now()).toISOString();
    const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    const decided = decide(deps, cpId, type, bytes, at, origin);
    if ("reason" in decided) {
      if (!deps.admitDeadLetter(cpId)) {
        deps.onDeadLetterLimited(cpId, decided.reason);
        return { outcome: "rate_limited", durable: Promise.resolve() };
      }
      deps.onInvalid(cpId, decided.reason);
    }
    const { durable } = deps.queue.append(encodeQueueRecord(decided.record));
    return {
      outcome: "reason" in decided ? "dead_lettered" : "accepted",
      // Dead letters count as accepted too: they are in the queue, and their PUBACK waited as long.
      durable: durable.then(() => deps.onAccepted(type, performance.now() - started)),
    };
  };
}

function decide(
  deps: IngestDeps,
  cpId: string,
  type: string,
  bytes: Uint8Array,
  at: string,
  origin: EventOrigin | undefined,
): { record: QueueRecord } | { record: QueueRecord; reason: string } {
  const decoded =
    bytes.byteLength > deps.maxPayloadBytes
      ? ({ ok: false, reason: `payload exceeds ${deps.maxPayloadBytes} bytes` } as const)
      : decodeUpstream(type, bytes);
  let reason: string;
  if (decoded.ok) {
    const event: UpEvent = { kind: "up", cpId, type, payload: decoded.value.payload, gatewayId: deps.gatewayId, receivedAt: at, ...origin };
    const record: QueueRecord = { topic: "events", key: cpId, value: JSON.stringify(event) };
    // A valid payload can still make a record the bus would refuse (MAX_PAYLOAD_BYTES set above
    // FORWARD_RECORD_MAX_BYTES); refuse it here, where the charger is known, not at the bus.
    if (recordBytes(record) <= deps.maxRecordBytes) return { record };
    reason = `event record exceeds ${deps.maxRecordBytes} bytes`;
  } else {
    reason = decoded.reason;
  }
  const value = encodeDeadLetter({ source: "gateway", reason, topic: `chargebridge/v1/${cpId}/up/${type}`, cpId, raw: bytes, at });
  return { record: { topic: "deadLetters", key: cpId, value }, reason };
}

/**
 * A charger's input that no upstream type can carry (an OCPP call the gateway answered but could
 * not map, e.g. StopTransaction for a transaction it never assigned): a bounded dead letter under
 * the same per-charger budget, so the operator sees it and a flood of it stays cheap.
 */
export function createDeadLetterIngest(deps: Pick<IngestDeps, "queue" | "clock" | "admitDeadLetter" | "onInvalid" | "onDeadLetterLimited">) {
  return (cpId: string, topic: string, raw: Uint8Array | string, reason: string): Promise<void> => {
    if (!deps.admitDeadLetter(cpId)) {
      deps.onDeadLetterLimited(cpId, reason);
      return Promise.resolve();
    }
    deps.onInvalid(cpId, reason);
    const at = new Date(deps.clock.now()).toISOString();
    const value = encodeDeadLetter({ source: "gateway", reason, topic, cpId, raw, at });
    return deps.queue.append(encodeQueueRecord({ topic: "deadLetters", key: cpId, value })).durable;
  };
}

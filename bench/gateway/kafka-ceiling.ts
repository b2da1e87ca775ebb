/**
 * What kafkajs itself can push into this broker on this machine: the ceiling any bridge built on
 * it is measured against. Records are the size of the gateway's (an `up` meter event, ~300 B),
 * sent in batches with acks=all, through a producer configured as the gateway's
 * (platform/kafka/supervised-producer.ts: idempotent, one request in flight) and, for comparison,
 * a plain producer with several batches in flight.
 */
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { meterPayload } from "./load.ts";

export interface CeilingOptions {
  brokers: string[];
  topic: string;
  batch: number;
  /** Batches in flight at once; >1 needs a non-idempotent producer to actually overlap. */
  inflight: number;
  seconds: number;
}

/** A record value exactly as the gateway forwards it, for a charger with a typical id. */
export function gatewayRecordValue(seq: number): string {
  return JSON.stringify({
    kind: "up",
    cpId: "gwbench-cp-001",
    type: "meter",
    payload: JSON.parse(meterPayload(seq)),
    gatewayId: "gwbench-xxxxxx",
    receivedAt: new Date().toISOString(),
  });
}

export async function createTopic(brokers: string[], topic: string): Promise<void> {
  const admin = new Kafka({ clientId: "gwbench-admin", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Records in a topic: the sum over partitions of high watermark minus low (nothing is deleted here). */
export async function topicRecordCount(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "gwbench-admin", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Messages/s acknowledged by Kafka over `seconds`, after a one-second warm-up. */
export async function measureCeiling(o: CeilingOptions): Promise<number> {
  const idempotent = o.inflight === 1;
  const producer = new Kafka({ clientId: "gwbench-ceiling", brokers: o.brokers, logLevel: logLevel.NOTHING }).producer({
    idempotent,
    maxInFlightRequests: idempotent ? 1 : o.inflight,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    let seq = 0;
    // 50 keys, as 50 chargers would spread over the partitions.
    const batch = () => Array.from({ length: o.batch }, () => ({ key: `gwbench-cp-${String(seq % 50).padStart(3, "0")}`, value: gatewayRecordValue(seq++) }));
    // Batches acknowledged after the one-second warm-up count, over the time from then to the last ack.
    const warmEnds = performance.now() + 1000;
    const end = warmEnds + o.seconds * 1000;
    let acked = 0;
    let lastAck = warmEnds;
    await Promise.all(
      Array.from({ length: o.inflight }, async () => {
        while (performance.now() < end) {
          const records = batch();
          await producer.send({ topic: o.topic, acks: -1, messages: records });
          const now = performance.now();
          if (now >= warmEnds) (acked += records.length), (lastAck = now);
        }
      }),
    );
    return acked / Math.max(0.001, (lastAck - warmEnds) / 1000);
  } finally {
    await producer.disconnect();
  }
}

import type { BusRecord } from "../platform/event-bus.ts";
import { recordBytes } from "../platform/record-bytes.ts";
import type { TopicNames } from "../protocol/index.ts";
import type { QueueEntry } from "./queue/durable-queue.ts";
import { decodeQueueRecord, type QueueRecord } from "./queue-record.ts";

/**
 * The one rule for what the forwarder sends to the bus at once. Kafka refuses a partition's
 * record batch over message.max.bytes (1 MiB by default) for good; staying well under it, in
 * bytes and in count, is what keeps one charger's records from making a batch nobody can send.
 */
export interface BatchLimits {
  /** Queue entries peeked and sent at most at once. */
  maxRecords: number;
  /** FORWARD_BATCH_MAX_BYTES: recordBytes() of one publish, all topics together. */
  maxBatchBytes: number;
  /** FORWARD_RECORD_MAX_BYTES: a larger record is never sent; it is replaced by a dead letter. */
  maxRecordBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxRecords: 500, maxBatchBytes: 512 * 1024, maxRecordBytes: 128 * 1024 };

/** A queue entry ready for the bus. */
export interface Outgoing {
  seq: number;
  logical: QueueRecord["topic"];
  topic: string;
  record: BusRecord;
  bytes: number;
}

export function toOutgoing(entry: QueueEntry, topics: TopicNames): Outgoing {
  const r = decodeQueueRecord(entry.data);
  const record = { key: r.key, value: r.value };
  return { seq: entry.seq, logical: r.topic, topic: topics[r.topic], record, bytes: recordBytes(record) };
}

/**
 * The longest prefix of `items` (queue order) within the limits. A record over maxRecordBytes
 * goes alone, so the caller can replace it without holding up the records around it.
 */
export function takeBatch(items: Outgoing[], limits: BatchLimits): Outgoing[] {
  const first = items[0];
  if (!first || first.bytes > limits.maxRecordBytes) return first ? [first] : [];
  let bytes = 0;
  let n = 0;
  for (const item of items) {
    if (n >= limits.maxRecords || item.bytes > limits.maxRecordBytes || bytes + item.bytes > limits.maxBatchBytes) break;
    bytes += item.bytes;
    n += 1;
  }
  return items.slice(0, Math.max(1, n));
}

/** Records per bus topic, each list in queue order (per-key order is all the bus keeps anyway). */
export function groupByTopic(items: Outgoing[]): Map<string, BusRecord[]> {
  const out = new Map<string, BusRecord[]>();
  for (const item of items) {
    let list = out.get(item.topic);
    if (!list) out.set(item.topic, (list = []));
    list.push(item.record);
  }
  return out;
}

import type { BusRecord } from "./event-bus.ts";

/**
 * Kafka's per-record framing (length, attributes, varint offsets, key and value lengths) is at
 * most about 21 bytes, and a record batch adds 61 (KIP-98 record format v2); counting 64 per
 * record keeps our estimate above what the broker counts against message.max.bytes.
 */
export const RECORD_OVERHEAD_BYTES = 64;

/**
 * Kafka's default message.max.bytes (1 MiB + 12): the largest record batch a broker accepts per
 * partition. The in-process bus enforces the same limit so the embedded path cannot hide a
 * publish that production would refuse.
 */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

const encoder = new TextEncoder();

function utf8Bytes(s: string): number {
  // encodeInto into a fixed buffer would avoid the copy; records are small, clarity wins here.
  return encoder.encode(s).byteLength;
}

/** Bytes a record costs on the bus: UTF-8 key, value and headers plus framing. */
export function recordBytes(r: BusRecord): number {
  let n = RECORD_OVERHEAD_BYTES + utf8Bytes(r.key) + utf8Bytes(r.value);
  for (const [k, v] of Object.entries(r.headers ?? {})) n += utf8Bytes(k) + utf8Bytes(v) + 8;
  return n;
}

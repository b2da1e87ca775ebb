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

/**
 * Splits records, in order, into publishes of at most `maxBytes` (recordBytes) and `maxRecords`
 * each, for a publisher with more to say than one publish should carry: a credential snapshot of
 * thousands of chargers would otherwise be one request over message.max.bytes, refused for good.
 * A record larger than `maxBytes` goes alone; the bus refuses it with a coded error.
 */
export function chunkRecords(records: BusRecord[], maxBytes = 512 * 1024, maxRecords = 500): BusRecord[][] {
  const chunks: BusRecord[][] = [];
  let current: BusRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const n = recordBytes(r);
    if (current.length > 0 && (bytes + n > maxBytes || current.length >= maxRecords)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

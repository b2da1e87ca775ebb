import { crc32 } from "./crc32.ts";

/**
 * One queue entry on disk, little-endian:
 *
 *   offset  size  field
 *        0     4  payload length (u32)
 *        4     4  CRC-32 of bytes [0,4) and [8, end): length, seq, enqueuedAt and payload
 *        8     8  seq (u64, written as two u32 halves; seqs stay below 2^53)
 *       16     8  enqueuedAt (f64, ms since the epoch)
 *       24     n  payload
 *
 * The length is covered by the CRC so that a torn or flipped length cannot make the reader
 * accept a record of the wrong extent. The seq is stored (not implied by position) so that
 * recovery can check continuity and never mistake stale bytes for the next entry.
 */
export const RECORD_HEADER_BYTES = 24;

/**
 * Largest payload accepted. It bounds the allocation a corrupt length field can trigger during
 * recovery; MQTT messages from chargers are kilobytes, so this is far beyond any real entry.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Bytes an entry occupies on disk; both queue implementations account space with it. */
export function entryBytes(payloadLength: number): number {
  return RECORD_HEADER_BYTES + payloadLength;
}

const TWO_32 = 2 ** 32;

/** Encodes one record into a fresh buffer; the payload is copied, so the caller may reuse its own. */
export function encodeRecord(seq: number, enqueuedAt: number, payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  view.setUint32(0, payload.length, true);
  view.setUint32(8, seq % TWO_32, true);
  view.setUint32(12, Math.floor(seq / TWO_32), true);
  view.setFloat64(16, enqueuedAt, true);
  record.set(payload, RECORD_HEADER_BYTES);
  view.setUint32(4, recordCrc(record, 0, record.length), true);
  return record;
}

function recordCrc(bytes: Uint8Array, start: number, end: number): number {
  return crc32(bytes, crc32(bytes, 0, start, start + 4), start + 8, end);
}

export interface DecodedRecord {
  seq: number;
  enqueuedAt: number;
  /** Offset of the record's first byte in the buffer that was decoded. */
  offset: number;
  /** Header plus payload. */
  bytes: number;
  /** A view into the decoded buffer, not a copy. */
  payload: Uint8Array;
}

export type DecodeResult =
  | { kind: "record"; record: DecodedRecord }
  /** The buffer ends before the record does: more bytes are needed, or the record is torn. */
  | { kind: "incomplete"; needBytes: number }
  | { kind: "corrupt"; reason: string };

/** Decodes the record that starts at `offset`, checking its bounds and its CRC. */
export function decodeRecord(buffer: Uint8Array, offset: number): DecodeResult {
  const available = buffer.length - offset;
  if (available < RECORD_HEADER_BYTES) return { kind: "incomplete", needBytes: RECORD_HEADER_BYTES };
  const view = new DataView(buffer.buffer, buffer.byteOffset + offset, RECORD_HEADER_BYTES);
  const length = view.getUint32(0, true);
  if (length > MAX_PAYLOAD_BYTES) return { kind: "corrupt", reason: `length ${length} exceeds the maximum` };
  const bytes = RECORD_HEADER_BYTES + length;
  if (available < bytes) return { kind: "incomplete", needBytes: bytes };
  const stored = view.getUint32(4, true);
  if (recordCrc(buffer, offset, offset + bytes) !== stored) return { kind: "corrupt", reason: "checksum mismatch" };
  const seq = view.getUint32(12, true) * TWO_32 + view.getUint32(8, true);
  const enqueuedAt = view.getFloat64(16, true);
  const payload = buffer.subarray(offset + RECORD_HEADER_BYTES, offset + bytes);
  return { kind: "record", record: { seq, enqueuedAt, offset, bytes, payload } };
}

import type { FileHandle } from "node:fs/promises";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { type DecodedRecord, decodeRecord } from "./record-codec.ts";

/**
 * A segment is one file of the log, named after the seq of its first record so that a directory
 * listing gives the order. It starts with a magic header that also versions the format; the
 * header is written together with the first batch, so a segment whose header is incomplete never
 * held a durable record.
 */
export const SEGMENT_MAGIC = new TextEncoder().encode("CBQLOG01");
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length;
const NAME = /^(\d{16})\.seg$/;

export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, "0")}.seg`;
}

export interface SegmentFile {
  firstSeq: number;
  path: string;
}

/** The segments in `dir`, oldest first. Files that are not segments are left alone. */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  const names = await readdir(dir);
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const match = NAME.exec(name);
    if (match) segments.push({ firstSeq: Number(match[1]), path: join(dir, name) });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

export type ScanEnd =
  | { kind: "clean" }
  /** The file has no complete header: created by a rotation that crashed before its first sync. */
  | { kind: "no-header" }
  /** The header is complete but is not ours: refuse rather than guess. */
  | { kind: "foreign"; reason: string }
  /** Bytes after `validEnd` are not a whole valid record (torn write, corruption, gap). */
  | { kind: "invalid-tail"; reason: string };

export interface ScanResult {
  /** File offset just past the last valid record (at least the header size when a header exists). */
  validEnd: number;
  fileSize: number;
  end: ScanEnd;
}

/**
 * Reads a segment from the start and reports each valid record, in order, until the first byte
 * that does not begin a valid record. A record is valid when its CRC matches and its seq is the
 * one expected next (the file's `firstSeq`, then +1 each): a checksum-valid record with the wrong seq would
 * be stale or misplaced data, and replaying it would be as bad as replaying garbage.
 *
 * Reads in large chunks rather than per record: recovery touches every byte of every segment.
 */
export async function scanSegment(
  path: string,
  firstSeq: number,
  onRecord: (record: DecodedRecord) => void,
  chunkBytes = 1 << 20,
): Promise<ScanResult> {
  const fh = await open(path, "r");
  try {
    const fileSize = (await fh.stat()).size;
    const header = new Uint8Array(SEGMENT_HEADER_BYTES);
    const got = await readFully(fh, header, 0);
    if (got < SEGMENT_HEADER_BYTES) return { validEnd: 0, fileSize, end: { kind: "no-header" } };
    if (!header.every((b, i) => b === SEGMENT_MAGIC[i])) {
      // A zero-filled header is what a crash during the first write of a new file can leave.
      if (header.every((b) => b === 0)) return { validEnd: 0, fileSize, end: { kind: "no-header" } };
      return { validEnd: 0, fileSize, end: { kind: "foreign", reason: "unknown segment header" } };
    }

    let pos = SEGMENT_HEADER_BYTES;
    let buffer = new Uint8Array(0);
    let bufferStart = pos;
    let expected = firstSeq;
    for (;;) {
      if (pos >= fileSize) return { validEnd: pos, fileSize, end: { kind: "clean" } };
      let decoded = decodeRecord(buffer, pos - bufferStart);
      if (decoded.kind === "incomplete") {
        const want = Math.min(Math.max(chunkBytes, decoded.needBytes), fileSize - pos);
        buffer = new Uint8Array(want);
        bufferStart = pos;
        const read = await readFully(fh, buffer, pos);
        buffer = buffer.subarray(0, read);
        decoded = decodeRecord(buffer, 0);
      }
      if (decoded.kind === "incomplete") {
        return { validEnd: pos, fileSize, end: { kind: "invalid-tail", reason: "record cut short" } };
      }
      if (decoded.kind === "corrupt") return { validEnd: pos, fileSize, end: { kind: "invalid-tail", reason: decoded.reason } };
      const record = decoded.record;
      if (record.seq !== expected) {
        return { validEnd: pos, fileSize, end: { kind: "invalid-tail", reason: `seq ${record.seq} where ${expected} was expected` } };
      }
      onRecord({ ...record, offset: pos });
      expected = record.seq + 1;
      pos += record.bytes;
    }
  } finally {
    await fh.close();
  }
}

/** `read` may return fewer bytes than asked; loops until the buffer is full or the file ends. */
export async function readFully(fh: FileHandle, buffer: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await fh.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** `write` may write fewer bytes than asked; loops until all are written. */
export async function writeFully(fh: FileHandle, buffer: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await fh.write(buffer, done, buffer.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write made no progress at offset ${position + done}`);
    done += bytesWritten;
  }
}

/** Makes a directory's entries (created, renamed, removed files) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

import { open, truncate, unlink } from "node:fs/promises";
import type { IndexedEntry } from "./queue-core.ts";
import { listSegments, scanSegment } from "./segment.ts";

/** Which file a sync made durable: log data, the ack cursor, or a directory entry. */
export type FsyncKind = "log" | "ack" | "dir";

export interface Segment {
  firstSeq: number;
  path: string;
  /** Bytes of valid data, header included; the next write goes here. */
  size: number;
  /** Seq of the last record, 0 while empty. */
  lastSeq: number;
}

export interface FileEntry extends IndexedEntry {
  segment: Segment;
  offset: number;
}

/**
 * What `openFileQueue` rebuilds from the directory a previous process left (cleanly or by dying).
 * The rules: read each segment up to its first invalid byte (cut and warned about, never
 * replayed), skip what the ack cursor covers, delete segments that hold nothing unacknowledged,
 * refuse to open over files it cannot explain, and continue seqs after both the last record and
 * the cursor.
 */
export interface Recovered {
  segments: Segment[];
  entries: FileEntry[];
  nextSeq: number;
  ackedSeq: number;
}

export async function recover(
  dir: string,
  ackedSeq: number,
  memoryBytes: number,
  warn: (message: string, details?: Record<string, unknown>) => void,
  onSync: (ms: number, entries: number, kind: FsyncKind) => void,
): Promise<Recovered> {
  const files = await listSegments(dir);
  const segments: Segment[] = [];
  const entries: FileEntry[] = [];
  let cached = 0;
  let maxSeq = 0;
  let previousLast = 0;
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const next = files[i + 1];
    const isLast = next === undefined;
    // The next segment's name bounds this one's seqs: if that is all acknowledged, skip the read.
    if (next && next.firstSeq - 1 <= ackedSeq) {
      await removeFile(file.path, warn);
      continue;
    }
    if (file.firstSeq <= previousLast) {
      throw new Error(`Queue segment ${file.path} overlaps the previous one (seq ${file.firstSeq} <= ${previousLast}); refusing to guess`);
    }
    const expectedFirst = Math.max(previousLast, ackedSeq) + 1;
    const segment: Segment = { firstSeq: file.firstSeq, path: file.path, size: 0, lastSeq: 0 };
    const scan = await scanSegment(file.path, file.firstSeq, (record) => {
      segment.lastSeq = record.seq;
      if (record.seq <= ackedSeq) return;
      // Copy what is cached: a view would pin the whole 1 MiB read chunk in memory.
      const keep = cached + record.payload.length <= memoryBytes;
      if (keep) cached += record.payload.length;
      entries.push({
        seq: record.seq,
        enqueuedAt: record.enqueuedAt,
        bytes: record.bytes,
        data: keep ? record.payload.slice() : undefined,
        segment,
        offset: record.offset,
      });
    });
    const end = scan.end;
    if (end.kind === "foreign") throw new Error(`${file.path}: ${end.reason}; refusing to open the queue`);
    if (end.kind === "no-header") {
      // Rotation writes the header with the first batch and syncs both before anything resolves,
      // so only the newest segment can lack one, and it then never held a durable record.
      if (!isLast) throw new Error(`Queue segment ${file.path} has no header but is not the newest; refusing to guess`);
      warn("Removed a queue segment left empty by an interrupted rotation", { path: file.path, bytes: scan.fileSize });
      await removeFile(file.path, warn);
      continue;
    }
    if (end.kind === "invalid-tail") {
      warn("Cut off an invalid tail of a queue segment (torn write or corruption); it is never replayed", {
        path: file.path,
        reason: end.reason,
        validBytes: scan.validEnd,
        droppedBytes: scan.fileSize - scan.validEnd,
        lastValidSeq: segment.lastSeq || undefined,
      });
      await truncate(file.path, scan.validEnd);
      await syncFile(file.path, onSync);
    }
    segment.size = scan.validEnd;
    if (segment.lastSeq > 0 && file.firstSeq > expectedFirst) {
      warn("Queue entries are missing before a segment (lost to corruption of an earlier one)", {
        path: file.path,
        missingFrom: expectedFirst,
        missingTo: file.firstSeq - 1,
      });
    }
    if (segment.lastSeq > 0) {
      previousLast = segment.lastSeq;
      maxSeq = Math.max(maxSeq, segment.lastSeq);
    }
    // Older segments holding nothing unacknowledged go now; the newest stays to be appended to.
    if (!isLast && segment.lastSeq <= ackedSeq) await removeFile(file.path, warn);
    else segments.push(segment);
  }
  // Never reuse a seq the ack cursor has covered, even when its records are gone.
  return { segments, entries, nextSeq: Math.max(maxSeq, ackedSeq) + 1, ackedSeq };
}

export async function removeFile(path: string, warn: (message: string, details?: Record<string, unknown>) => void): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    warn("Could not remove a queue segment; it will be retried", { path, error: (error as Error).message });
  }
}

async function syncFile(path: string, onSync: (ms: number, entries: number, kind: FsyncKind) => void): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const started = performance.now();
    await fh.sync();
    onSync(performance.now() - started, 0, "log");
  } finally {
    await fh.close();
  }
}

import type { FileHandle } from "node:fs/promises";
import { mkdir, open } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Clock } from "../../platform/clock.ts";
import { AckCursor } from "./ack-cursor.ts";
import type { DurableQueue, QueueStats } from "./durable-queue.ts";
import { DirectoryLock } from "./dir-lock.ts";
import { type PendingAppend, QueueCore } from "./queue-core.ts";
import { type FileEntry, type FsyncKind, type Recovered, type Segment, recover, removeFile } from "./recovery.ts";
import { decodeRecord, encodeRecord } from "./record-codec.ts";
import { SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, readFully, segmentFileName, syncDirectory, writeFully } from "./segment.ts";

export type { FsyncKind } from "./recovery.ts";

export interface FileQueueOptions {
  dir: string;
  /** Bound on unacknowledged bytes (record headers included); appends wait for space beyond it. */
  maxBytes: number;
  /** Size at which the log rolls to a new segment file; fully acknowledged segments are deleted. */
  segmentBytes?: number;
  /** Payload bytes kept in memory for peek; default min(maxBytes, 32 MiB). The rest is re-read. */
  memoryBytes?: number;
  clock?: Clock;
  /** Recovery findings (torn tail cut off, stray files) and failures; wire it to the logger. */
  onWarning?: (message: string, details?: Record<string, unknown>) => void;
  /** Every sync, with its duration and how many entries it made durable; for metrics. */
  onFsync?: (ms: number, entries: number, kind: FsyncKind) => void;
  /** Entries per group commit; 1 turns group commit off (benchmark baseline only). */
  maxBatchEntries?: number;
  /** How long to wait for another process holding the directory to let go; see dir-lock.ts. */
  lockWaitMs?: number;
}

export interface FileQueueStats extends QueueStats {
  /** Syncs issued since open, all kinds. */
  fsyncs: number;
  /** Group commits (batches made durable) since open. */
  commits: number;
  /** Entries made durable since open. */
  committedEntries: number;
  segments: number;
  /** Payload bytes held in memory for peek. */
  cachedBytes: number;
}

export interface FileQueue extends DurableQueue {
  readonly dir: string;
  stats(): FileQueueStats;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024;

/**
 * Opens (creating if needed) the durable queue in `options.dir`.
 *
 * Layout: `<firstSeq>.seg` segment files (an append-only log of CRC-checked records, see
 * record-codec.ts), `ack.cursor` (see ack-cursor.ts) and `queue.lock`.
 *
 * Writes: appends admitted in the same tick, or while the previous sync is running, form one
 * batch: one positional write and one fdatasync per segment touched (group commit). `durable`
 * resolves only after that sync.
 *
 * Recovery: each segment is read up to the first byte that is not a whole, checksum-valid record
 * with the expected seq; the rest (a torn write) is truncated, with a warning, and never replayed.
 * Records up to the ack cursor are skipped, fully acknowledged segments deleted, and the next seq
 * continues after both the last record and the cursor.
 *
 * Memory: an index entry per unacknowledged record; payloads stay cached up to `memoryBytes` and
 * are read back from the segment (CRC re-checked) beyond that.
 */
export async function openFileQueue(options: FileQueueOptions): Promise<FileQueue> {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= SEGMENT_HEADER_BYTES) {
    throw new RangeError(`segmentBytes must be an integer above ${SEGMENT_HEADER_BYTES}, got ${segmentBytes}`);
  }
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
    throw new RangeError(`maxBytes must be a positive integer, got ${options.maxBytes}`);
  }
  const memoryBytes = options.memoryBytes ?? Math.min(options.maxBytes, DEFAULT_MEMORY_BYTES);
  const warn = options.onWarning ?? (() => {});
  const counters = { fsyncs: 0 };
  const onSync = (ms: number, entries: number, kind: FsyncKind) => {
    counters.fsyncs += 1;
    options.onFsync?.(ms, entries, kind);
  };

  const created = await mkdir(options.dir, { recursive: true });
  if (created !== undefined) {
    // Syncing files inside a new directory does not make the directory itself durable: sync each
    // parent whose entries changed, from the queue directory up to the first one mkdir created.
    for (let d = resolve(options.dir); ; d = dirname(d)) {
      await syncDirectory(dirname(d));
      if (d === resolve(created)) break;
    }
  }
  const lock = await DirectoryLock.acquire(options.dir, {
    waitMs: options.lockWaitMs,
    onWaiting: (owner) => warn("Queue directory is in use; waiting for it to be released", { dir: options.dir, owner, waitMs: options.lockWaitMs }),
  });
  let cursor: AckCursor | undefined;
  try {
    const opened = await AckCursor.open(options.dir, { onWarning: warn, onSync: (ms) => onSync(ms, 0, "ack") });
    cursor = opened.cursor;
    const recovered = await recover(options.dir, opened.ackedSeq, memoryBytes, warn, onSync);
    return new FileQueueImpl(options, segmentBytes, memoryBytes, lock, opened.cursor, recovered, counters, onSync);
  } catch (error) {
    await cursor?.close();
    await lock.release();
    throw error;
  }
}

class FileQueueImpl extends QueueCore<FileEntry> implements FileQueue {
  readonly dir: string;
  private readonly segmentBytes: number;
  private segments: Segment[];
  /** The segment being appended to, with its write handle; undefined until the first write. */
  private active: { segment: Segment; fh: FileHandle; needsDirSync: boolean } | undefined;
  private commits = 0;
  private committedEntries = 0;
  /** Serialises reads of segments with their deletion, so a peek never reads a file being removed. */
  private io: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: FileQueueOptions,
    segmentBytes: number,
    memoryBytes: number,
    private readonly lock: DirectoryLock,
    private readonly cursor: AckCursor,
    recovered: Recovered,
    private readonly counters: { fsyncs: number },
    private readonly onSync: (ms: number, entries: number, kind: FsyncKind) => void,
  ) {
    super(
      {
        maxBytes: options.maxBytes,
        clock: options.clock,
        cacheBytes: memoryBytes,
        maxBatchEntries: options.maxBatchEntries,
        onWarning: options.onWarning,
      },
      recovered,
    );
    this.dir = options.dir;
    this.segmentBytes = segmentBytes;
    this.segments = recovered.segments;
  }

  override stats(): FileQueueStats {
    return {
      ...super.stats(),
      fsyncs: this.counters.fsyncs,
      commits: this.commits,
      committedEntries: this.committedEntries,
      segments: this.segments.length,
      cachedBytes: this.payloadCacheBytes,
    };
  }

  protected encode(seq: number, enqueuedAt: number, data: Uint8Array): { record: Uint8Array; payload: Uint8Array } {
    // Encoding (copy + CRC) happens here, in append, so it overlaps with the sync in flight.
    const record = encodeRecord(seq, enqueuedAt, data);
    return { record, payload: record.subarray(record.length - data.length) };
  }

  protected async commitAppends(batch: readonly PendingAppend[]): Promise<FileEntry[]> {
    const out: FileEntry[] = [];
    let i = 0;
    while (i < batch.length) {
      const first = batch[i]!;
      const active = await this.segmentFor(first);
      const segment = active.segment;
      const start = segment.size;
      const header = start === 0 ? SEGMENT_HEADER_BYTES : 0;
      // As many records as fit in this segment (at least one, however large), in one buffer.
      let end = i;
      let bytes = header;
      do {
        bytes += batch[end]!.bytes;
        end += 1;
      } while (end < batch.length && start + bytes + batch[end]!.bytes <= this.segmentBytes);

      const buffer = new Uint8Array(bytes);
      if (header > 0) buffer.set(SEGMENT_MAGIC, 0);
      let offset = header;
      for (let k = i; k < end; k++) {
        const item = batch[k]!;
        buffer.set(item.record, offset);
        out.push({ seq: item.seq, enqueuedAt: item.enqueuedAt, bytes: item.bytes, data: item.payload, segment, offset: start + offset });
        offset += item.bytes;
      }
      await writeFully(active.fh, buffer, start);
      const started = performance.now();
      // fdatasync also persists the grown file size, which is all the metadata a reader needs.
      await active.fh.datasync();
      this.onSync(performance.now() - started, end - i, "log");
      if (active.needsDirSync) {
        // The new file's directory entry must be durable before any of its records is reported so.
        const dirStarted = performance.now();
        await syncDirectory(this.dir);
        this.onSync(performance.now() - dirStarted, 0, "dir");
        active.needsDirSync = false;
      }
      segment.size = start + bytes;
      segment.lastSeq = batch[end - 1]!.seq;
      i = end;
    }
    this.commits += 1;
    this.committedEntries += batch.length;
    return out;
  }

  /** The segment the next record goes to, rolling to a new file when full or out of sequence. */
  private async segmentFor(next: PendingAppend): Promise<{ segment: Segment; fh: FileHandle; needsDirSync: boolean }> {
    if (!this.active) {
      const last = this.segments[this.segments.length - 1];
      if (last && continues(last, next.seq)) {
        this.active = { segment: last, fh: await open(last.path, "r+"), needsDirSync: false };
      }
    }
    const current = this.active;
    if (current && continues(current.segment, next.seq)) {
      const full = current.segment.size > SEGMENT_HEADER_BYTES && current.segment.size + next.bytes > this.segmentBytes;
      if (!full) return current;
    }
    if (current) {
      this.active = undefined;
      await current.fh.close();
    }
    const segment: Segment = { firstSeq: next.seq, path: join(this.dir, segmentFileName(next.seq)), size: 0, lastSeq: 0 };
    // "wx": a file of that name would be one recovery did not understand; never overwrite it.
    const fh = await open(segment.path, "wx+");
    this.segments.push(segment);
    this.active = { segment, fh, needsDirSync: true };
    return this.active;
  }

  protected async commitAck(seq: number): Promise<void> {
    await this.cursor.write(seq);
  }

  protected async reclaim(seq: number): Promise<void> {
    const dead: Segment[] = [];
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      if (oldest === this.active?.segment || oldest.lastSeq > seq) break;
      dead.push(this.segments.shift()!);
    }
    if (dead.length === 0) return;
    // No directory sync: if a removal is lost in a crash, recovery sees the segment is fully
    // acknowledged and removes it again.
    await this.exclusive(async () => {
      for (const segment of dead) await removeFile(segment.path, this.onWarning);
    });
  }

  protected load(entries: readonly FileEntry[]): Promise<Uint8Array[]> {
    return this.exclusive(async () => {
      const out: Uint8Array[] = [];
      let i = 0;
      while (i < entries.length) {
        // One read per run of adjacent records in the same segment.
        const first = entries[i]!;
        let end = i + 1;
        while (end < entries.length) {
          const prev = entries[end - 1]!;
          const next = entries[end]!;
          if (next.segment !== first.segment || next.offset !== prev.offset + prev.bytes) break;
          end += 1;
        }
        const last = entries[end - 1]!;
        const buffer = new Uint8Array(last.offset + last.bytes - first.offset);
        const fh = await open(first.segment.path, "r");
        try {
          await readFully(fh, buffer, first.offset);
        } finally {
          await fh.close();
        }
        for (let k = i; k < end; k++) {
          const entry = entries[k]!;
          const decoded = decodeRecord(buffer, entry.offset - first.offset);
          if (decoded.kind !== "record" || decoded.record.seq !== entry.seq || decoded.record.bytes !== entry.bytes) {
            const reason = decoded.kind === "corrupt" ? decoded.reason : decoded.kind === "incomplete" ? "cut short" : "wrong record";
            this.onWarning("A queued entry changed on disk after it was written", { seq: entry.seq, path: entry.segment.path, reason });
            throw new Error(`Queue entry ${entry.seq} in ${entry.segment.path} is corrupt on disk (${reason})`);
          }
          out.push(decoded.record.payload);
        }
        i = end;
      }
      return out;
    });
  }

  protected async release(): Promise<void> {
    await this.exclusive(async () => {
      const active = this.active;
      this.active = undefined;
      await active?.fh.close();
      await this.cursor.close();
      await this.lock.release();
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.io.then(task, task);
    this.io = run.catch(() => {});
    return run;
  }
}

/** Whether a record with `seq` may follow the segment's content: seqs inside a file are contiguous. */
function continues(segment: Segment, seq: number): boolean {
  return segment.lastSeq === 0 ? segment.firstSeq === seq : segment.lastSeq + 1 === seq;
}

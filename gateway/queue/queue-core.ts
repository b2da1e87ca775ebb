import { type Clock, systemClock } from "../../platform/clock.ts";
import { Deque } from "./deque.ts";
import type { DurableQueue, QueueEntry, QueueStats } from "./durable-queue.ts";
import { MAX_PAYLOAD_BYTES, entryBytes } from "./record-codec.ts";

/**
 * The queue semantics shared by the file queue and the in-memory queue: seq assignment,
 * admission against `maxBytes` (backpressure), group commit, ack coalescing, waitForData and
 * stats. Subclasses only store things. Sharing this keeps the in-memory stand-in honest: it
 * cannot drift from the behaviour the gateway gets in production.
 */

export class QueueClosedError extends Error {
  constructor(message = "Durable queue is closed") {
    super(message);
    this.name = "QueueClosedError";
  }
}

/** An append that has a seq but is not durable yet. */
export interface PendingAppend {
  seq: number;
  enqueuedAt: number;
  /** Space the entry takes against `maxBytes` (header plus payload). */
  bytes: number;
  /** The subclass's stored form (the file queue: the encoded record). */
  record: Uint8Array;
  /** The payload, a private copy that the caller can no longer change. */
  payload: Uint8Array;
  resolve(): void;
  reject(error: unknown): void;
}

/** A durable, unacknowledged entry. `data` is undefined when the payload lives only on disk. */
export interface IndexedEntry {
  seq: number;
  enqueuedAt: number;
  bytes: number;
  data: Uint8Array | undefined;
}

export interface CoreOptions {
  maxBytes: number;
  clock?: Clock;
  /** Payload bytes kept in memory for peek; the rest is read back from storage. */
  cacheBytes?: number;
  /** Entries per group commit; 1 disables group commit (the benchmark's baseline). */
  maxBatchEntries?: number;
  /** Bytes per group commit, so that one commit cannot hold everything behind a huge write. */
  maxBatchBytes?: number;
  onWarning?: (message: string, details?: Record<string, unknown>) => void;
}

export interface RestoredState<E extends IndexedEntry> {
  entries: E[];
  nextSeq: number;
  ackedSeq: number;
}

interface AckWaiter {
  upto: number;
  resolve(): void;
  reject(error: unknown): void;
}

interface DataWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

const noop = () => {};

export abstract class QueueCore<E extends IndexedEntry> implements DurableQueue {
  protected readonly clock: Clock;
  protected readonly onWarning: (message: string, details?: Record<string, unknown>) => void;
  private readonly maxBytes: number;
  private readonly cacheBytes: number;
  private readonly maxBatchEntries: number;
  private readonly maxBatchBytes: number;

  private nextSeq: number;
  /** Highest seq that is durable; acks beyond it are refused. */
  private durableSeq: number;
  /** Highest seq an `ack` asked for; peek already hides entries up to it. */
  private ackRequested: number;
  /** Highest seq whose ack is durable; entries up to it have left the index. */
  private ackDurable: number;

  private readonly index = new Deque<E>();
  private readonly blocked = new Deque<PendingAppend>();
  private pending: PendingAppend[] = [];
  private inflight: PendingAppend[] = [];
  /** Bytes of admitted entries (pending, in flight, durable) not yet durably acknowledged. */
  private reservedBytes = 0;
  private admitted = 0;
  private cachedBytes = 0;

  private flushing: Promise<void> | undefined;
  private acking: Promise<void> | undefined;
  private readonly ackWaiters: AckWaiter[] = [];
  private readonly dataWaiters = new Set<DataWaiter>();
  private failure: Error | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  protected constructor(options: CoreOptions, restored: RestoredState<E>) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
      throw new RangeError(`maxBytes must be a positive integer, got ${options.maxBytes}`);
    }
    this.maxBytes = options.maxBytes;
    this.clock = options.clock ?? systemClock;
    this.cacheBytes = options.cacheBytes ?? Number.POSITIVE_INFINITY;
    this.maxBatchEntries = Math.max(1, options.maxBatchEntries ?? Number.POSITIVE_INFINITY);
    this.maxBatchBytes = Math.max(1, options.maxBatchBytes ?? 8 * 1024 * 1024);
    this.onWarning = options.onWarning ?? noop;
    this.nextSeq = restored.nextSeq;
    this.durableSeq = restored.nextSeq - 1;
    this.ackRequested = restored.ackedSeq;
    this.ackDurable = restored.ackedSeq;
    for (const entry of restored.entries) {
      this.index.push(this.cached(entry));
      this.reservedBytes += entry.bytes;
    }
    this.admitted = restored.entries.length;
  }

  /** Turns a caller's payload into the stored form; called synchronously inside `append`. */
  protected abstract encode(seq: number, enqueuedAt: number, data: Uint8Array): { record: Uint8Array; payload: Uint8Array };
  /** Makes a batch durable (one write and one sync where possible); returns their index entries. */
  protected abstract commitAppends(batch: readonly PendingAppend[]): Promise<E[]>;
  /** Makes "acknowledged up to `seq`" durable. */
  protected abstract commitAck(seq: number): Promise<void>;
  /** Reclaims storage of entries up to `seq` once their ack is durable. Must not throw. */
  protected abstract reclaim(seq: number): Promise<void>;
  /** Reads the payloads of entries that are not cached, in the order given. */
  protected abstract load(entries: readonly E[]): Promise<Uint8Array[]>;
  /** Releases storage resources; called once, after the last commit. */
  protected abstract release(): Promise<void>;

  append(data: Uint8Array): { seq: number; durable: Promise<void> } {
    if (this.failure) throw this.failure;
    if (this.closed) throw new QueueClosedError();
    if (!(data instanceof Uint8Array)) throw new TypeError("append expects a Uint8Array");
    if (data.length > MAX_PAYLOAD_BYTES) throw new RangeError(`Payload of ${data.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
    const bytes = entryBytes(data.length);
    // Such an entry could never be admitted: refuse it now rather than block forever.
    if (bytes > this.maxBytes) throw new RangeError(`Entry of ${bytes} bytes exceeds the queue's maxBytes ${this.maxBytes}`);

    const seq = this.nextSeq++;
    const enqueuedAt = this.clock.now();
    const { record, payload } = this.encode(seq, enqueuedAt, data);
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller that drops `durable` must not crash the process with an unhandled rejection when
    // the queue closes; callers that await it still see the rejection.
    durable.catch(noop);
    const item: PendingAppend = { seq, enqueuedAt, bytes, record, payload, resolve, reject };
    // FIFO: once anything waits for space, later appends wait behind it, so the log stays in seq order.
    if (this.blocked.length === 0 && this.reservedBytes + bytes <= this.maxBytes) this.admit(item);
    else this.blocked.push(item);
    return { seq, durable };
  }

  async peek(max: number): Promise<QueueEntry[]> {
    this.assertUsable();
    const chosen: E[] = [];
    for (let i = 0; i < this.index.length && chosen.length < max; i++) {
      const entry = this.index.at(i);
      if (entry.seq > this.ackRequested) chosen.push(entry);
    }
    const missing = chosen.filter((e) => e.data === undefined);
    const loaded = missing.length > 0 ? await this.load(missing) : [];
    let next = 0;
    // Cached payloads are copied: a consumer that mutates what it peeked must not change what a
    // retry would deliver. Loaded payloads are fresh buffers already.
    return chosen.map((e) => ({ seq: e.seq, enqueuedAt: e.enqueuedAt, data: e.data ? e.data.slice() : loaded[next++]! }));
  }

  async ack(uptoSeq: number): Promise<void> {
    this.assertUsable();
    if (!Number.isSafeInteger(uptoSeq) || uptoSeq < 0) throw new RangeError(`Invalid seq to ack: ${uptoSeq}`);
    if (uptoSeq > this.durableSeq) {
      throw new RangeError(`Cannot ack up to ${uptoSeq}: entries are durable only up to ${this.durableSeq}`);
    }
    if (uptoSeq <= this.ackDurable) return;
    if (uptoSeq > this.ackRequested) this.ackRequested = uptoSeq;
    const done = new Promise<void>((resolve, reject) => this.ackWaiters.push({ upto: uptoSeq, resolve, reject }));
    this.startAckLoop();
    return done;
  }

  waitForData(signal?: AbortSignal): Promise<void> {
    try {
      this.assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const last = this.index.length > 0 ? this.index.at(this.index.length - 1) : undefined;
    if (last && last.seq > this.ackRequested) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.dataWaiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: DataWaiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.dataWaiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  stats(): QueueStats {
    const oldest = this.index.length > 0 ? this.index.at(0) : (this.inflight[0] ?? this.pending[0]);
    return {
      depth: this.admitted,
      bytes: this.reservedBytes,
      oldestAgeMs: oldest ? Math.max(0, this.clock.now() - oldest.enqueuedAt) : 0,
      blockedAppends: this.blocked.length,
    };
  }

  /** Payload bytes held in memory for peek. */
  protected get payloadCacheBytes(): number {
    return this.cachedBytes;
  }

  /**
   * Stops accepting appends, rejects appends still waiting for space (they were never admitted,
   * so no caller has been told they are durable), commits everything admitted, then releases.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      const closedError = new QueueClosedError("Durable queue closed before the entry was admitted");
      while (this.blocked.length > 0) this.blocked.shift()!.reject(closedError);
      this.rejectDataWaiters(new QueueClosedError());
      while (this.flushing || this.acking) await (this.flushing ?? this.acking);
      await this.release();
    })();
    return this.closing;
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new QueueClosedError();
  }

  private admit(item: PendingAppend): void {
    this.reservedBytes += item.bytes;
    this.admitted += 1;
    this.pending.push(item);
    this.startFlushLoop();
  }

  /**
   * Each loop re-checks for work when it ends: an append or ack that arrived after the loop's last
   * check but before its promise settled would otherwise wait for a loop that never comes.
   */
  private startFlushLoop(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0 && !this.failure) this.startFlushLoop();
    });
  }

  private startAckLoop(): void {
    if (this.acking) return;
    this.acking = this.ackLoop().finally(() => {
      this.acking = undefined;
      if (this.ackRequested > this.ackDurable && !this.failure) this.startAckLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once so that every append of the current synchronous burst joins the first batch.
    await Promise.resolve();
    // Appends that arrive while a commit is syncing accumulate in `pending` and form the next
    // batch: that is the group commit.
    while (this.pending.length > 0 && !this.failure) {
      const batch = this.takeBatch();
      this.inflight = batch;
      let entries: E[];
      try {
        entries = await this.commitAppends(batch);
      } catch (error) {
        this.fail(error, batch);
        return;
      } finally {
        this.inflight = [];
      }
      for (const entry of entries) this.index.push(this.cached(entry));
      this.durableSeq = batch[batch.length - 1]!.seq;
      for (const item of batch) item.resolve();
      if (this.dataWaiters.size > 0) {
        const waiters = [...this.dataWaiters];
        this.dataWaiters.clear();
        for (const waiter of waiters) waiter.resolve();
      }
    }
  }

  private takeBatch(): PendingAppend[] {
    let count = 0;
    let bytes = 0;
    while (count < this.pending.length && count < this.maxBatchEntries) {
      const next = this.pending[count]!;
      if (count > 0 && bytes + next.bytes > this.maxBatchBytes) break;
      bytes += next.bytes;
      count += 1;
    }
    if (count === this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      return batch;
    }
    return this.pending.splice(0, count);
  }

  private async ackLoop(): Promise<void> {
    // Acks issued in the same tick share one cursor write.
    await Promise.resolve();
    while (this.ackRequested > this.ackDurable && !this.failure) {
      const target = this.ackRequested;
      try {
        await this.commitAck(target);
      } catch (error) {
        this.fail(error, []);
        return;
      }
      this.ackDurable = target;
      while (this.index.length > 0 && this.index.at(0).seq <= target) {
        const entry = this.index.shift()!;
        this.reservedBytes -= entry.bytes;
        this.admitted -= 1;
        if (entry.data) this.cachedBytes -= entry.data.length;
      }
      while (this.blocked.length > 0 && this.reservedBytes + this.blocked.at(0).bytes <= this.maxBytes) {
        this.admit(this.blocked.shift()!);
      }
      await this.reclaim(target);
      for (let i = this.ackWaiters.length - 1; i >= 0; i--) {
        const waiter = this.ackWaiters[i]!;
        if (waiter.upto <= target) {
          this.ackWaiters.splice(i, 1);
          waiter.resolve();
        }
      }
    }
  }

  /** Keeps the payload in memory only while the cache budget allows. */
  private cached(entry: E): E {
    if (entry.data === undefined) return entry;
    if (this.cachedBytes + entry.data.length <= this.cacheBytes) {
      this.cachedBytes += entry.data.length;
      return entry;
    }
    entry.data = undefined;
    return entry;
  }

  /**
   * A failed write or sync leaves the file's state unknown (the kernel may have dropped the
   * dirty pages), so the queue stops instead of retrying: the owner reopens it, and recovery
   * reads what really is on disk. Entries that made it are then redelivered, which is safe
   * because no caller was told they were durable.
   */
  private fail(error: unknown, batch: readonly PendingAppend[]): void {
    const cause = error instanceof Error ? error.message : String(error);
    this.failure = new Error(`Durable queue failed and must be reopened: ${cause}`, { cause: error });
    this.onWarning("Durable queue failed; reopen it to recover from disk", { error: cause });
    for (const item of batch) item.reject(this.failure);
    for (const item of this.pending) item.reject(this.failure);
    this.pending = [];
    while (this.blocked.length > 0) this.blocked.shift()!.reject(this.failure);
    for (const waiter of this.ackWaiters.splice(0)) waiter.reject(this.failure);
    this.rejectDataWaiters(this.failure);
  }

  private rejectDataWaiters(error: Error): void {
    const waiters = [...this.dataWaiters];
    this.dataWaiters.clear();
    for (const waiter of waiters) waiter.reject(error);
  }
}

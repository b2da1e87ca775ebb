import type { Clock } from "../../platform/clock.ts";
import type { DurableQueue } from "./durable-queue.ts";
import { type IndexedEntry, type PendingAppend, QueueCore } from "./queue-core.ts";

export interface MemoryQueueOptions {
  maxBytes: number;
  clock?: Clock;
}

/**
 * A `DurableQueue` without the durability, for unit tests of the components around the queue.
 * It shares QueueCore with the file queue, so order, seq assignment, backpressure, ack rules and
 * `durable` resolving asynchronously (after the current tick, as a group commit) all behave the
 * same; only a restart loses everything. Never use it where a PUBACK depends on it.
 */
export function createMemoryQueue(options: MemoryQueueOptions): DurableQueue {
  return new MemoryQueue(options);
}

class MemoryQueue extends QueueCore<IndexedEntry> {
  constructor(options: MemoryQueueOptions) {
    // Every payload stays in memory (`load` is never needed), bounded by maxBytes as on disk.
    super({ maxBytes: options.maxBytes, clock: options.clock }, { entries: [], nextSeq: 1, ackedSeq: 0 });
  }

  protected encode(_seq: number, _enqueuedAt: number, data: Uint8Array): { record: Uint8Array; payload: Uint8Array } {
    const copy = data.slice();
    return { record: copy, payload: copy };
  }

  protected async commitAppends(batch: readonly PendingAppend[]): Promise<IndexedEntry[]> {
    return batch.map((item) => ({ seq: item.seq, enqueuedAt: item.enqueuedAt, bytes: item.bytes, data: item.payload }));
  }

  protected async commitAck(): Promise<void> {}

  protected async reclaim(): Promise<void> {}

  protected async load(): Promise<Uint8Array[]> {
    throw new Error("The memory queue keeps every payload in memory; load is never needed");
  }

  protected async release(): Promise<void> {}
}

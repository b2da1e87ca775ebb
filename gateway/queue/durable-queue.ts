/**
 * The gateway's on-disk queue of charger messages that Kafka has not acknowledged yet.
 * Implementations run tests/contract/durable-queue.contract.ts.
 *
 * - `append` assigns the sequence number synchronously, in call order, then resolves once the
 *   entry is durable (written and fsynced; concurrent appends share one fsync: group commit).
 *   The gateway sends PUBACK only after that promise resolves.
 * - `peek` reads the oldest entries not yet acknowledged, in sequence order.
 * - `ack(seq)` removes every entry with sequence <= seq; it is durable before it resolves.
 * - After a crash (even kill -9) `open` recovers every entry whose append had resolved; a torn
 *   tail is detected by checksum and cut off, never replayed.
 * - The queue is bounded: when `maxBytes` would be exceeded, `append` waits (backpressure) until
 *   acks free space. It never drops an entry.
 */
export interface QueueEntry {
  seq: number;
  data: Uint8Array;
  /** Milliseconds since the epoch when the entry was appended. */
  enqueuedAt: number;
}

export interface QueueStats {
  depth: number;
  bytes: number;
  /** Age in ms of the oldest unacknowledged entry; 0 when empty. */
  oldestAgeMs: number;
  /** Appends waiting for space right now. */
  blockedAppends: number;
}

export interface DurableQueue {
  append(data: Uint8Array): { seq: number; durable: Promise<void> };
  peek(max: number): Promise<QueueEntry[]>;
  ack(uptoSeq: number): Promise<void>;
  /** Resolves when there is at least one entry to peek (immediately if there is). */
  waitForData(signal?: AbortSignal): Promise<void>;
  stats(): QueueStats;
  close(): Promise<void>;
}

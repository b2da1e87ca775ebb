/**
 * The one interface between gateways and Central. Implementations: the in-process bus
 * (embedded default) and Kafka (production). Both run tests/contract/event-bus.contract.ts.
 *
 * Semantics, which mirror Kafka so the embedded path cannot hide a production bug:
 * - `publish` resolves only once the bus has accepted every record (Kafka: acks from all ISRs).
 * - Records with the same key keep their order.
 * - Every consumer group sees every record; within a group each record goes to one member.
 * - Delivery is at-least-once: a record is committed after its handler resolves; if the handler
 *   throws, the same record is delivered again (after a backoff) before any later record of its key.
 * - `subscribeBatch` hands over several records of one partition at once, in offset order; the
 *   whole batch is committed after its handler resolves, and a throwing handler gets the same
 *   batch again (after a backoff) before any later record of the partition.
 */
export interface BusRecord {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface ConsumedRecord extends BusRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Milliseconds since the epoch at which the bus accepted the record. */
  timestamp: number;
}

export type RecordHandler = (record: ConsumedRecord) => Promise<void>;

/** Records of one partition, in offset order; never empty, never more than `maxBatchRecords`. */
export type BatchHandler = (records: ConsumedRecord[]) => Promise<void>;

export interface PublishOptions {
  /**
   * Stops waiting for the bus; the records may or may not have been written. A process that is
   * shutting down passes its own, so that an unreachable Kafka cannot hold its exit.
   */
  signal?: AbortSignal;
}

export interface SubscribeOptions {
  groupId: string;
  /** Where a group with no committed position starts. Default: only new records. */
  fromBeginning?: boolean;
  /**
   * How many partitions' records this member may handle at once. Records of one partition (so
   * of one key) are always handled one at a time, in order. Default 1. The in-process bus has
   * one partition per topic, so there it changes nothing.
   */
  concurrency?: number;
}

export interface BatchSubscribeOptions extends SubscribeOptions {
  /** Most records handed to one call of the batch handler (Central: CENTRAL_BATCH_MAX_RECORDS). Default 500. */
  maxBatchRecords?: number;
}

export const DEFAULT_MAX_BATCH_RECORDS = 500;

export interface Subscription {
  close(): Promise<void>;
}

export type BusState = "connecting" | "connected" | "disconnected" | "closed";

export interface BusHealth {
  state: BusState;
  /** Times the bus connection was re-established after a loss. */
  reconnects: number;
  lastError?: string;
}

export interface EventBus {
  readonly kind: "in-process" | "kafka";
  publish(topic: string, records: BusRecord[], options?: PublishOptions): Promise<void>;
  subscribe(topic: string, options: SubscribeOptions, handler: RecordHandler): Promise<Subscription>;
  /**
   * Batch consumption (both buses here implement it). Optional so that wrappers written against
   * the record interface (tests' fault-injecting buses) stay valid; callers fall back to `subscribe`.
   */
  subscribeBatch?(topic: string, options: BatchSubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  health(): BusHealth;
  close(): Promise<void>;
}

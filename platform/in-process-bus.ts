import { Backoff, delay } from "./backoff.ts";
import { BusError } from "./bus-error.ts";
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, recordBytes } from "./record-bytes.ts";
import {
  DEFAULT_MAX_BATCH_RECORDS,
  type BatchHandler,
  type BatchSubscribeOptions,
  type BusHealth,
  type BusRecord,
  type ConsumedRecord,
  type EventBus,
  type PublishOptions,
  type RecordHandler,
  type SubscribeOptions,
  type Subscription,
} from "./event-bus.ts";

interface Member {
  /** Takes 1..max records in order; a record handler is a batch handler with max 1. */
  handler: BatchHandler;
  max: number;
  closed: boolean;
}

interface Group {
  /** Offset of the next record to deliver (the committed position). */
  position: number;
  members: Member[];
  running: boolean;
  /** The member whose handler is running now, if any. */
  current?: Member;
  /** Publishers waiting for this group to commit past an offset (awaitConsumers mode). */
  waiters: { offset: number; resolve: () => void; reject: (error: Error) => void }[];
}

interface TopicLog {
  /** Offset of records[0]; older records were trimmed by retention. */
  base: number;
  records: ConsumedRecord[];
  groups: Map<string, Group>;
}

/** Topic logs shared by the buses attached to one hub, as processes share one Kafka cluster. */
export interface InProcessHub {
  readonly topics: Map<string, TopicLog>;
}

export function createInProcessHub(): InProcessHub {
  return { topics: new Map() };
}

export interface InProcessBusOptions {
  hub?: InProcessHub;
  /**
   * `publish` resolves only once every consumer group with a live member has committed the
   * records. The bus lives in memory, so without this a producer that deletes its own copy after
   * publishing (the gateway's disk queue) would lose records a crash caught in flight; with it,
   * "published" means "applied by the consumers", and the producer's copy stays until then.
   */
  awaitConsumers?: boolean;
  /** Records kept per topic for groups that start from the beginning. */
  maxRetained?: number;
  onHandlerError?: (error: unknown, record: ConsumedRecord) => void;
  /**
   * Largest publish, in recordBytes(), that is accepted; more is refused with
   * `bus_record_too_large`. Default: Kafka's default message.max.bytes. Kafka applies it to the
   * records of one partition; this bus has one partition per topic, so to the whole publish.
   */
  maxBatchBytes?: number;
}

/**
 * The embedded stand-in for Kafka: one partition per topic, committed positions per consumer
 * group, redelivery until the handler succeeds. It lives in memory: durability on the embedded
 * path comes from the gateway's disk queue and Central's database, not from the bus.
 */
export class InProcessBus implements EventBus {
  readonly kind = "in-process" as const;
  private readonly topics: Map<string, TopicLog>;
  private readonly maxRetained: number;
  private readonly members = new Set<{ member: Member; group: Group }>();
  private closed = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: InProcessBusOptions = {}) {
    this.maxRetained = options.maxRetained ?? 100_000;
    this.topics = (options.hub ?? createInProcessHub()).topics;
  }

  async publish(topic: string, records: BusRecord[], options: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new Error("Event bus is closed");
    options.signal?.throwIfAborted();
    const limit = this.options.maxBatchBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    const bytes = records.reduce((n, r) => n + recordBytes(r), 0);
    if (bytes > limit) {
      // All or nothing, as a refused Kafka partition batch: none of these records is appended.
      throw new BusError("bus_record_too_large", `Records for ${topic} take ${bytes} bytes, over the bus limit of ${limit}`);
    }
    const log = this.log(topic);
    for (const record of records) {
      const offset = log.base + log.records.length;
      log.records.push({ ...record, topic, partition: 0, offset: String(offset), timestamp: Date.now() });
    }
    const excess = log.records.length - this.maxRetained;
    if (excess > 0) {
      log.records.splice(0, excess);
      log.base += excess;
    }
    const last = log.base + log.records.length - 1;
    const committed = this.options.awaitConsumers
      ? [...log.groups.values()]
          .filter((g) => g.members.length > 0 && g.position <= last)
          .map((g) => new Promise<void>((resolve, reject) => g.waiters.push({ offset: last, resolve, reject })))
      : [];
    for (const group of log.groups.values()) this.kick(log, group);
    // The records are in the log either way; the signal only stops waiting for consumers that
    // cannot commit (e.g. Central's database is down while the gateway shuts down).
    const signal = options.signal;
    if (!signal || committed.length === 0) return void (await Promise.all(committed));
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      Promise.all(committed).then(
        () => (signal.removeEventListener("abort", onAbort), resolve()),
        (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
      );
    });
  }

  async subscribe(topic: string, options: SubscribeOptions, handler: RecordHandler): Promise<Subscription> {
    return this.join(topic, options, (records) => handler(records[0]!), 1);
  }

  async subscribeBatch(topic: string, options: BatchSubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    return this.join(topic, options, handler, Math.max(1, Math.floor(options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS)));
  }

  private async join(topic: string, options: SubscribeOptions, handler: BatchHandler, max: number): Promise<Subscription> {
    if (this.closed) throw new Error("Event bus is closed");
    const log = this.log(topic);
    let group = log.groups.get(options.groupId);
    if (!group) {
      group = { position: options.fromBeginning ? log.base : log.base + log.records.length, members: [], running: false, waiters: [] };
      log.groups.set(options.groupId, group);
    }
    const member: Member = { handler, max, closed: false };
    group.members.push(member);
    const entry = { member, group };
    this.members.add(entry);
    this.kick(log, group);
    return {
      close: async () => {
        this.members.delete(entry);
        await this.leave(log, group, member);
      },
    };
  }

  health(): BusHealth {
    return { state: this.closed ? "closed" : "connected", reconnects: 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    // Publishers waiting on this bus's consumers learn that they will not be served.
    for (const { group } of this.members) {
      for (const w of group.waiters.splice(0)) w.reject(new Error("Event bus consumer closed before committing"));
    }
    for (const { member, group } of this.members) {
      const log = [...this.topics.values()].find((l) => [...l.groups.values()].includes(group));
      if (log) await this.leave(log, group, member);
    }
    this.members.clear();
  }

  private release(group: Group): void {
    const done = group.waiters.filter((w) => w.offset < group.position);
    group.waiters = group.waiters.filter((w) => w.offset >= group.position);
    for (const w of done) w.resolve();
  }

  /** Removes a member; waits until the group's loop is not inside that member's handler. */
  private async leave(log: TopicLog, group: Group, member: Member): Promise<void> {
    member.closed = true;
    group.members = group.members.filter((m) => m !== member);
    // A handler stuck for good must not hang shutdown: wait a bounded time for it.
    const until = Date.now() + 5_000;
    while (group.running && group.current === member && Date.now() < until) await delay(5);
    this.kick(log, group);
  }

  private log(topic: string): TopicLog {
    let log = this.topics.get(topic);
    if (!log) {
      log = { base: 0, records: [], groups: new Map() };
      this.topics.set(topic, log);
    }
    return log;
  }

  /** Starts the group's delivery loop unless it is running; one loop per group keeps order. */
  private kick(log: TopicLog, group: Group): void {
    if (group.running || group.members.length === 0) return;
    group.running = true;
    queueMicrotask(() => {
      void this.drain(log, group).finally(() => {
        group.running = false;
        // A publish that raced the loop's exit must not be stranded.
        if (group.members.length > 0 && group.position < log.base + log.records.length) {
          this.kick(log, group);
        }
      });
    });
  }

  private async drain(log: TopicLog, group: Group): Promise<void> {
    const backoff = new Backoff({ initialMs: 50, maxMs: 2_000 });
    for (;;) {
      const member = group.members[0];
      if (!member || member.closed) return;
      if (group.position < log.base) group.position = log.base;
      const start = group.position - log.base;
      const batch = log.records.slice(start, start + member.max);
      const record = batch[0];
      if (!record) return;
      group.current = member;
      try {
        await member.handler(batch);
        // The whole batch commits at once, only after its handler resolved (retention may have
        // trimmed the log meanwhile: the position still moves past exactly these records).
        group.position = Number(batch[batch.length - 1]!.offset) + 1;
        backoff.reset();
        if (group.waiters.length > 0) this.release(group);
      } catch (error) {
        this.options.onHandlerError?.(error, record);
        group.current = undefined;
        await delay(backoff.next(), this.abort.signal);
      } finally {
        group.current = undefined;
      }
    }
  }
}

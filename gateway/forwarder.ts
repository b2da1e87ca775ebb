import { Backoff, delay } from "../platform/backoff.ts";
import { recordRefusal, type BusErrorCode } from "../platform/bus-error.ts";
import type { EventBus } from "../platform/event-bus.ts";
import type { Logger } from "../platform/logger.ts";
import type { TopicNames } from "../protocol/index.ts";
import { DEFAULT_BATCH_LIMITS, groupByTopic, takeBatch, toOutgoing, type BatchLimits, type Outgoing } from "./forward-batch.ts";
import { encodeDeadLetter } from "../protocol/dead-letter-encoding.ts";
import type { DurableQueue } from "./queue/durable-queue.ts";

export interface ForwarderDeps {
  queue: DurableQueue;
  bus: EventBus;
  topics: TopicNames;
  log: Logger;
  limits?: Partial<BatchLimits>;
  /** For the `at` of the dead letters that replace refused records. */
  now?: () => number;
  onForwarded(count: number): void;
  onPublishError(): void;
  /** A record the bus refused for good (or that is over maxRecordBytes) was replaced by a dead letter. */
  onRefused(code: BusErrorCode, logical: string): void;
  /** Even that dead letter was refused: the record is gone from the queue, known only by this and the log. */
  onDropped(code: BusErrorCode): void;
}

/**
 * Drains the disk queue to the bus in order: peek a batch, publish it, and only once the bus has
 * acknowledged it remove it from the queue. A crash between publish and ack replays the batch,
 * which Central drops by message id.
 *
 * What the bus may refuse: batches stay within the limits of forward-batch.ts. A transient
 * failure (link down, leader moving) is retried with backoff, forever: nothing leaves the queue
 * unacknowledged. A refusal that names the records (bus_record_too_large, bus_invalid_record) is
 * never retried as is, or one charger's bad record would stop the site's forwarding for good
 * (issue 10): the batch is split in halves until the culprit stands alone, which is replaced by a
 * bounded dead letter saying why. Other permanent refusals (ACLs, a wrong topic) would refuse
 * every record alike, so they are retried like transient ones until an operator fixes the cause.
 */
export class Forwarder {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly limits: BatchLimits;

  constructor(private readonly deps: ForwarderDeps) {
    this.limits = { ...DEFAULT_BATCH_LIMITS, ...deps.limits };
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Waits up to `deadlineMs` for the queue to drain (graceful shutdown), then stops. */
  async stop(deadlineMs = 5_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.deps.queue.stats().depth > 0 && Date.now() < until && this.deps.bus.health().state === "connected") {
      await delay(25);
    }
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { queue, topics } = this.deps;
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!this.abort.signal.aborted) {
      try {
        await queue.waitForData(this.abort.signal);
        if (this.abort.signal.aborted) return;
        const entries = await queue.peek(this.limits.maxRecords);
        if (entries.length === 0) continue;
        await this.send(takeBatch(entries.map((e) => toOutgoing(e, topics)), this.limits));
        backoff.reset();
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.deps.onPublishError();
        const wait = backoff.next();
        this.deps.log.warn({ err: error, retryInMs: wait }, "Forwarding to the bus failed; keeping messages and retrying");
        await delay(wait, this.abort.signal);
      }
    }
  }

  /**
   * Publishes `batch` and acks it; on a refusal of the records, isolates the culprits by halving,
   * acking each part once it is out. Halves go in queue order, so the queue's ack cursor only
   * ever moves over records that are on the bus (or replaced there by their dead letter).
   */
  private async send(batch: Outgoing[]): Promise<void> {
    if (batch.length === 0) return;
    if (batch.length === 1 && batch[0]!.bytes > this.limits.maxRecordBytes) {
      return this.replace(batch[0]!, "bus_record_too_large");
    }
    try {
      await this.publish(batch);
    } catch (error) {
      const code = recordRefusal(error);
      if (!code || this.abort.signal.aborted) throw error;
      if (batch.length === 1) return this.replace(batch[0]!, code);
      const half = Math.ceil(batch.length / 2);
      await this.send(batch.slice(0, half));
      await this.send(batch.slice(half));
      return;
    }
    await this.deps.queue.ack(batch[batch.length - 1]!.seq);
    this.deps.onForwarded(batch.length);
  }

  private async publish(batch: Outgoing[]): Promise<void> {
    // Topics are published one after another; within a topic, the batch keeps queue order.
    // The signal ends a publish that waits for an unreachable Kafka when the gateway stops;
    // the entries stay unacknowledged on disk and go out after the restart.
    for (const [topic, records] of groupByTopic(batch)) await this.deps.bus.publish(topic, records, { signal: this.abort.signal });
  }

  /** Replaces a refused record by a bounded dead letter ("bus refused: <code>") and acks it. */
  private async replace(item: Outgoing, code: BusErrorCode): Promise<void> {
    const { bus, topics, log } = this.deps;
    const at = new Date((this.deps.now ?? Date.now)()).toISOString();
    const value = encodeDeadLetter({ source: "gateway", reason: `bus refused: ${code}`, topic: item.topic, cpId: item.record.key, raw: item.record.value, at });
    const fields = { code, topic: item.topic, key: item.record.key, bytes: item.bytes, seq: item.seq };
    this.deps.onRefused(code, item.logical);
    log.error(fields, "The bus refused a record for good; replacing it by a bounded dead letter");
    try {
      await bus.publish(topics.deadLetters, [{ key: item.record.key, value }], { signal: this.abort.signal });
    } catch (error) {
      const again = recordRefusal(error);
      if (!again) throw error; // transient: the record stays at the head and is tried again
      this.deps.onDropped(again);
      log.error({ ...fields, deadLetterCode: again }, "The bus refused the dead letter too; the record is dropped, counted and logged");
    }
    await this.deps.queue.ack(item.seq);
    this.deps.onForwarded(1);
  }
}

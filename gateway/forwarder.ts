import { Backoff, delay } from "../platform/backoff.ts";
import type { BusRecord, EventBus } from "../platform/event-bus.ts";
import type { Logger } from "../platform/logger.ts";
import type { TopicNames } from "../protocol/index.ts";
import type { DurableQueue } from "./queue/durable-queue.ts";
import { decodeQueueRecord } from "./queue-record.ts";

export interface ForwarderDeps {
  queue: DurableQueue;
  bus: EventBus;
  topics: TopicNames;
  log: Logger;
  batchSize?: number;
  onForwarded(count: number): void;
  onPublishError(): void;
}

/**
 * Drains the disk queue to the bus in order: peek a batch, publish it, and only once the bus has
 * acknowledged it remove it from the queue. A failed publish is retried with backoff, forever;
 * whatever the bus does, nothing leaves the queue unacknowledged. A crash between publish and
 * ack replays the batch, which Central drops by message id.
 */
export class Forwarder {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: ForwarderDeps) {}

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
    const { queue, bus, topics } = this.deps;
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!this.abort.signal.aborted) {
      try {
        await queue.waitForData(this.abort.signal);
        if (this.abort.signal.aborted) return;
        const entries = await queue.peek(this.deps.batchSize ?? 500);
        if (entries.length === 0) continue;
        const byTopic = new Map<string, BusRecord[]>();
        for (const entry of entries) {
          const r = decodeQueueRecord(entry.data);
          const name = topics[r.topic];
          let list = byTopic.get(name);
          if (!list) byTopic.set(name, (list = []));
          list.push({ key: r.key, value: r.value });
        }
        // Topics are published one after another; within a topic, the batch keeps queue order.
        // The signal ends a publish that waits for an unreachable Kafka when the gateway stops;
        // the entries stay unacknowledged on disk and go out after the restart.
        for (const [topic, records] of byTopic) await bus.publish(topic, records, { signal: this.abort.signal });
        await queue.ack(entries[entries.length - 1]!.seq);
        this.deps.onForwarded(entries.length);
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
}

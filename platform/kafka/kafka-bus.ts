import {
  DEFAULT_MAX_BATCH_RECORDS,
  type BatchHandler,
  type BatchSubscribeOptions,
  type BusHealth,
  type BusState,
  type BusRecord,
  type EventBus,
  type PublishOptions,
  type RecordHandler,
  type SubscribeOptions,
  type Subscription,
} from "../event-bus.ts";
import { BusClosedError, type KafkaBusOptions } from "./kafka-config.ts";
import { BusStateTracker, combineStates, latestError, type LinkState } from "./link-state.ts";
import { SupervisedConsumer } from "./supervised-consumer.ts";
import { SupervisedProducer } from "./supervised-producer.ts";
import { TopicAdmin } from "./topic-admin.ts";

/**
 * The production EventBus: Kafka through kafkajs, with every kafkajs object supervised so that
 * a Kafka outage, however long, ends in recovery rather than a dead client.
 *
 * Creating the bus never fails for want of Kafka; it connects in the background. `publish`
 * waits through outages until Kafka acks (all in-sync replicas), and rejects only when the bus
 * closes, the caller's signal aborts, `publishTimeoutMs` passes, or Kafka refuses the records
 * for good (e.g. too large). `subscribe` likewise waits until the member has joined its group.
 * `health()` reports the worst link: the producer, every open subscription, and a metadata probe
 * every `probeIntervalMs` that notices an outage while nothing is being sent or received;
 * `reconnects` counts recoveries of the bus as a whole (one outage, one reconnect).
 */
export class KafkaBus implements EventBus {
  readonly kind = "kafka" as const;
  private readonly producer: SupervisedProducer;
  private readonly admin: TopicAdmin;
  private readonly consumers = new Set<SupervisedConsumer>();
  private readonly tracker = new BusStateTracker();
  private closed = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error("KafkaBus needs at least one broker");
    this.producer = new SupervisedProducer(options);
    this.admin = new TopicAdmin(options);
    this.producer.link.onChange = () => this.linkChanged(this.producer.link);
    this.admin.link.onChange = () => this.linkChanged(this.admin.link);
    this.producer.start();
    this.admin.startProbe(options.probeIntervalMs ?? 5_000);
  }

  /** Resolves once the producer is connected; for startup probes and tests. */
  async ready(signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new BusClosedError();
    await this.producer.ready(signal);
  }

  async publish(topic: string, records: BusRecord[], options: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new BusClosedError();
    if (records.length === 0) return;
    const signal = this.deadline(options.signal);
    await this.admin.ensureTopic(topic, signal);
    await this.producer.send(
      topic,
      records.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) })),
      signal,
    );
  }

  async subscribe(topic: string, options: SubscribeOptions, handler: RecordHandler): Promise<Subscription> {
    return this.join(topic, options, handler);
  }

  async subscribeBatch(topic: string, options: BatchSubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const maxRecords = Math.max(1, Math.floor(options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS));
    return this.join(topic, options, (record) => handler([record]), { handler, maxRecords });
  }

  private async join(
    topic: string,
    options: SubscribeOptions,
    handler: RecordHandler,
    batch?: { handler: BatchHandler; maxRecords: number },
  ): Promise<Subscription> {
    if (this.closed) throw new BusClosedError();
    const fromBeginning = options.fromBeginning ?? false;
    await this.admin.ensureTopic(topic, this.abort.signal);
    const startPositions = fromBeginning
      ? new Map<number, string>()
      : await this.admin.startPositions(options.groupId, topic, this.abort.signal);
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    const consumer = new SupervisedConsumer({ topic, groupId: options.groupId, fromBeginning, handler, ...(batch ? { batch } : {}), startPositions, concurrency }, this.options);
    consumer.link.onChange = () => this.linkChanged(consumer.link);
    this.consumers.add(consumer);
    const close = async () => {
      if (!this.consumers.delete(consumer)) return;
      await consumer.close();
      this.tracker.update(this.state());
    };
    try {
      await consumer.start();
    } catch (error) {
      await close();
      throw this.closed ? new BusClosedError() : error;
    }
    return { close };
  }

  /**
   * Folds a link's change into the bus state. A link that got through to Kafka also wakes the
   * consumers pausing between rebuilds: their backoff grows to seconds during an outage, and a
   * command or event should not wait that long once the producer has shown that Kafka is back.
   */
  private linkChanged(link: LinkState): void {
    this.tracker.update(this.state());
    if (link.state === "connected") for (const c of this.consumers) c.wake();
  }

  health(): BusHealth {
    const lastError = latestError([this.producer.link, this.admin.link, ...[...this.consumers].map((c) => c.link)]);
    return { state: this.state(), reconnects: this.tracker.reconnects, ...(lastError ? { lastError } : {}) };
  }

  private state(): BusState {
    if (this.closed) return "closed";
    const links: LinkState[] = [this.producer.link, ...[...this.consumers].map((c) => c.link)];
    // The admin link is fed by the periodic probe; before its first answer it has nothing to say.
    if (this.admin.link.state !== "connecting") links.push(this.admin.link);
    return combineStates(links);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort(new BusClosedError());
    const consumers = [...this.consumers];
    this.consumers.clear();
    await Promise.all(consumers.map((c) => c.close()));
    await Promise.all([this.producer.close(), this.admin.close()]);
  }

  /** The caller's signal, the bus closing and the optional per-call timeout, as one signal. */
  private deadline(signal?: AbortSignal): AbortSignal {
    // The common case needs no combined signal (each AbortSignal.any keeps listeners alive).
    if (!signal && this.options.publishTimeoutMs === undefined) return this.abort.signal;
    const signals = [this.abort.signal];
    if (signal) signals.push(signal);
    if (this.options.publishTimeoutMs !== undefined) signals.push(AbortSignal.timeout(this.options.publishTimeoutMs));
    return AbortSignal.any(signals);
  }
}

/** The bus starts connecting at once; `await bus.ready()` where a connected bus is required. */
export function createKafkaBus(options: KafkaBusOptions): KafkaBus {
  return new KafkaBus(options);
}

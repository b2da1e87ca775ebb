import { Partitioners, type Message, type Producer } from "kafkajs";
import { Backoff, delay } from "../backoff.ts";
import { BusError } from "../bus-error.ts";
import { raceAbort, withTimeout } from "./async.ts";
import {
  BusClosedError,
  DEFAULT_RECONNECT_BACKOFF,
  busErrorCodeOf,
  createKafkaClient,
  describeError,
  permanentKafkaError,
  type KafkaBusOptions,
} from "./kafka-config.ts";
import { LinkState } from "./link-state.ts";

/**
 * A kafkajs producer that cannot stay dead. kafkajs gives up on a send once its retries are
 * exhausted and may keep broken state afterwards (stale metadata, a producer id the broker no
 * longer knows, out-of-order sequence numbers: kafkajs issues #979, #919, #1686). Here every
 * failed send throws the whole client away and builds a new one, with backoff, forever.
 *
 * A send is retried until Kafka acks it, so a record whose first attempt was written but not
 * acknowledged can be written twice: delivery is at-least-once, as the EventBus contract says.
 * Only errors that no retry can fix (record too large, not authorised) reject the send, with a
 * BusError whose code says which (retriable: false), so callers decide on the code.
 */
export class SupervisedProducer {
  readonly link = new LinkState();
  private producer?: Producer;
  private connecting?: Promise<Producer>;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: KafkaBusOptions) {}

  /** Starts connecting in the background; sends wait for it. */
  start(): void {
    void this.connected().catch(() => {});
  }

  /** Resolves once a producer is connected (after retrying as long as needed). */
  async ready(signal?: AbortSignal): Promise<void> {
    await this.connected(signal);
  }

  /** Resolves once every record is acked by all in-sync replicas. */
  async send(topic: string, messages: Message[], signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new BusClosedError();
    const attempt = this.sendUntilAcked(topic, messages, signal);
    this.inFlight.add(attempt);
    try {
      await attempt;
    } finally {
      this.inFlight.delete(attempt);
    }
  }

  private async sendUntilAcked(topic: string, messages: Message[], signal?: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF);
    for (;;) {
      if (this.closed) throw new BusClosedError();
      signal?.throwIfAborted();
      const producer = await this.connected(signal);
      try {
        // acks -1: every in-sync replica has the record before publish resolves.
        const timeout = (this.options.requestTimeoutMs ?? 30_000) * 2;
        await withTimeout(producer.send({ topic, messages, acks: -1 }), timeout, "Kafka send");
        if (this.link.up()) this.options.logger?.info({ topic }, "Kafka producer reconnected");
        return;
      } catch (error) {
        if (this.closed) throw new BusClosedError();
        const permanent = permanentKafkaError(error);
        if (permanent) {
          throw new BusError(busErrorCodeOf(permanent), `Kafka rejected the records for ${topic} (${permanent}): ${describeError(error)}`, false, {
            cause: error,
          });
        }
        if (this.link.down(error)) {
          this.options.logger?.warn({ topic, err: describeError(error) }, "Kafka producer lost its connection");
        }
        this.discard(producer);
        await delay(backoff.next(), anySignal(this.abort.signal, signal));
      }
    }
  }

  /** The connected producer, connecting (once, shared by all callers) when there is none. */
  private connected(signal?: AbortSignal): Promise<Producer> {
    if (this.closed) return Promise.reject(new BusClosedError());
    if (this.producer) return Promise.resolve(this.producer);
    if (!this.connecting) {
      this.connecting = this.connectLoop().finally(() => {
        this.connecting = undefined;
      });
    }
    return raceAbort(this.connecting, signal);
  }

  private async connectLoop(): Promise<Producer> {
    const backoff = new Backoff(this.options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF);
    for (;;) {
      if (this.closed) throw new BusClosedError();
      const producer = createKafkaClient(this.options, "producer").producer({
        // Idempotence plus one request in flight keeps per-key order across kafkajs' own retries.
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      try {
        await withTimeout(producer.connect(), (this.options.connectionTimeoutMs ?? 3_000) * 5, "Kafka connect");
        if (this.closed) {
          void producer.disconnect().catch(() => {});
          throw new BusClosedError();
        }
        this.producer = producer;
        if (this.link.up()) this.options.logger?.info({}, "Kafka producer reconnected");
        return producer;
      } catch (error) {
        if (error instanceof BusClosedError) throw error;
        if (this.link.down(error)) {
          this.options.logger?.warn({ err: describeError(error) }, "Kafka producer cannot connect");
        }
        void producer.disconnect().catch(() => {});
        await delay(backoff.next(), this.abort.signal);
      }
    }
  }

  /** Drops a producer that failed; concurrent senders that saw the same failure drop it once. */
  private discard(producer: Producer): void {
    if (this.producer !== producer) return;
    this.producer = undefined;
    void producer.disconnect().catch(() => {});
  }

  /** Rejects new sends, gives in-flight ones `graceMs` to be acked, then disconnects. */
  async close(graceMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort(new BusClosedError());
    if (this.inFlight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inFlight]), delay(graceMs)]);
    }
    const producer = this.producer;
    this.producer = undefined;
    this.link.close();
    await producer?.disconnect().catch(() => {});
  }
}

function anySignal(a: AbortSignal, b?: AbortSignal): AbortSignal {
  return b ? AbortSignal.any([a, b]) : a;
}

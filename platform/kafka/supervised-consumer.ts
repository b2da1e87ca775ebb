import type { Consumer, EachBatchPayload, EachMessagePayload, Kafka, KafkaMessage } from "kafkajs";
import { Backoff, delay } from "../backoff.ts";
import type { BatchHandler, ConsumedRecord, RecordHandler } from "../event-bus.ts";
import { deferred, raceAbort, withTimeout } from "./async.ts";
import {
  BusClosedError,
  DEFAULT_HANDLER_BACKOFF,
  DEFAULT_RECONNECT_BACKOFF,
  createKafkaClient,
  describeError,
  permanentKafkaError,
  type KafkaBusOptions,
} from "./kafka-config.ts";
import { LinkState } from "./link-state.ts";
import { StaleMemberReaper } from "./stale-member-reaper.ts";

export interface ConsumerSpec {
  topic: string;
  groupId: string;
  fromBeginning: boolean;
  /** One record at a time (eachMessage), or, with `batch`, chunks of a partition's fetch (eachBatch). */
  handler: RecordHandler;
  batch?: { handler: BatchHandler; maxRecords: number };
  /** Partitions handled at once (kafkajs `partitionsConsumedConcurrently`); order holds per partition. */
  concurrency: number;
  /** Partitions of a group without committed offsets, and where they start (see TopicAdmin). */
  startPositions: Map<number, string>;
}

/**
 * One kafkajs consumer (one group member) that cannot stay dead. kafkajs' consumer crashes once
 * its retries are exhausted and, for errors it deems non-retriable, never restarts (`crash` with
 * `restart: false`); its own restart path has also been seen to hang. So kafkajs' restart is
 * switched off, and this class owns the one recovery path: on a crash or a stall, throw the
 * client away and build a new consumer after a backoff, forever, resuming from committed offsets.
 *
 * A failing handler is retried here, with backoff, before any later record of its partition:
 * kafkajs would redeliver too (it fetches again from the last resolved offset), but only for a
 * few retries before crashing the consumer and rebalancing the group.
 */
export class SupervisedConsumer {
  readonly link = new LinkState();
  private closed = false;
  private readonly abort = new AbortController();
  private readonly ready = deferred<void>();
  private loop?: Promise<void>;
  private generation = 0;
  private current?: { consumer: Consumer; failed: (error: unknown) => void };
  /** Handlers running now; with concurrency, one per partition at most. */
  private inHandler = 0;
  private lastActivity = Date.now();
  private watchdog?: ReturnType<typeof setInterval>;
  /** Member ids of consumers thrown away without a clean leave (see StaleMemberReaper). */
  private readonly reaper: StaleMemberReaper;
  /** Ends the backoff pause before the next rebuild early (see `wake`). */
  private wakeUp = new AbortController();

  constructor(
    private readonly spec: ConsumerSpec,
    private readonly options: KafkaBusOptions,
  ) {
    this.reaper = new StaleMemberReaper(spec.groupId, options.logger);
  }

  /**
   * Another link of the same bus reached Kafka: if this consumer is pausing between rebuilds,
   * try now instead of sleeping out the backoff (which grows to seconds during an outage).
   */
  wake(): void {
    if (this.options.fastRejoin !== false) this.wakeUp.abort();
  }

  /**
   * Starts the member; resolves once it joined the group, got its partitions and fetched once,
   * i.e. its start positions are fixed, so records published afterwards reach the group.
   */
  async start(): Promise<void> {
    this.loop ??= this.runLoop();
    const stallMs = this.options.stallTimeoutMs ?? 60_000;
    this.watchdog ??= setInterval(() => this.checkStall(stallMs), Math.max(250, stallMs / 4));
    await this.ready.promise;
  }

  private async runLoop(): Promise<void> {
    const backoff = new Backoff(this.options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF);
    while (!this.closed) {
      const generation = ++this.generation;
      const failure = deferred<unknown>();
      const kafka = createKafkaClient(this.options, "consumer");
      const joined = new AbortController();
      let memberId: string | undefined;
      const consumer = this.createConsumer(kafka, generation, backoff, (id) => {
        memberId = id;
        joined.abort();
      });
      this.current = { consumer, failed: failure.resolve };
      this.lastActivity = Date.now();
      // Runs beside the join: once the new member waits in a rebalance, the old one is removed.
      const reaping = this.options.fastRejoin === false ? Promise.resolve() : this.reaper.reap(kafka, AbortSignal.any([joined.signal, this.abort.signal]));
      let error: unknown;
      try {
        const connectMs = (this.options.connectionTimeoutMs ?? 3_000) * 5;
        await raceAbort(withTimeout(consumer.connect(), connectMs, "Kafka consumer connect"), this.abort.signal);
        await raceAbort(consumer.subscribe({ topic: this.spec.topic, fromBeginning: this.spec.fromBeginning }), this.abort.signal);
        await raceAbort(
          consumer.run({
            autoCommit: true,
            partitionsConsumedConcurrently: this.spec.concurrency,
            ...(this.spec.batch
              ? {
                  // Offsets are resolved by hand, chunk by chunk, only once the batch handler resolved;
                  // threshold 1 makes commitOffsetsIfNecessary (after each chunk) commit them at once.
                  eachBatchAutoResolve: false,
                  autoCommitThreshold: 1,
                  eachBatch: (payload: EachBatchPayload) => this.deliverBatch(payload, generation, this.spec.batch!),
                }
              : { eachMessage: (payload: EachMessagePayload) => this.deliver(payload, generation) }),
          }),
          this.abort.signal,
        );
        error = await raceAbort(failure.promise, this.abort.signal);
      } catch (e) {
        error = e;
      }
      this.current = undefined;
      joined.abort();
      await consumer.disconnect().catch(() => {});
      await reaping;
      // kafkajs' leave inside disconnect fails while Kafka is unreachable; the next attempt checks.
      if (memberId) this.reaper.remember(memberId);
      if (this.closed) break;
      const permanent = permanentKafkaError(error);
      if (permanent && !this.ready.settled()) {
        // E.g. not authorised for the group: no retry helps, so subscribe fails instead of hanging.
        this.ready.reject(new Error(`Kafka refused the subscription to ${this.spec.topic} (${permanent}): ${describeError(error)}`));
        this.closed = true;
        clearInterval(this.watchdog);
        break;
      }
      const fields = { topic: this.spec.topic, groupId: this.spec.groupId, err: describeError(error) };
      if (this.link.down(error)) this.options.logger?.warn(fields, "Kafka consumer lost; rebuilding it");
      else this.options.logger?.debug(fields, "Kafka consumer failed again; rebuilding it");
      // A wake during the failed attempt counts too: Kafka answered someone since it began.
      if (!this.wakeUp.signal.aborted) await delay(backoff.next(), AbortSignal.any([this.abort.signal, this.wakeUp.signal]));
      this.wakeUp = new AbortController();
    }
  }

  private createConsumer(kafka: Kafka, generation: number, backoff: Backoff, onJoin: (memberId: string) => void): Consumer {
    const consumer = kafka.consumer({
      groupId: this.spec.groupId,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: (this.options.sessionTimeoutMs ?? 10_000) + 5_000,
      heartbeatInterval: this.options.heartbeatIntervalMs ?? 1_000,
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 500,
      allowAutoTopicCreation: false,
      // A few quick retries, then crash; never kafkajs' own restart (see the class comment).
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000, restartOnFailure: async () => false },
    });
    const live = () => generation === this.generation && !this.closed;
    const alive = () => {
      if (live()) this.lastActivity = Date.now();
    };
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (!live()) return;
      alive();
      joined = true;
      onJoin(event.payload.memberId);
      // Runs synchronously inside kafkajs' join, before its first fetch picks the seeks up.
      const assigned = event.payload.memberAssignment[this.spec.topic] ?? [];
      for (const partition of assigned) {
        const offset = this.spec.startPositions.get(partition);
        if (offset !== undefined) consumer.seek({ topic: this.spec.topic, partition, offset });
      }
    });
    consumer.on(consumer.events.FETCH, () => {
      if (!live() || !joined) return;
      alive();
      // The seeks were committed by that fetch; later joins resume from committed offsets.
      this.spec.startPositions.clear();
      backoff.reset();
      if (this.link.up()) {
        this.options.logger?.info({ topic: this.spec.topic, groupId: this.spec.groupId }, "Kafka consumer reconnected");
      }
      this.ready.resolve();
    });
    for (const event of [consumer.events.FETCH_START, consumer.events.HEARTBEAT, consumer.events.END_BATCH_PROCESS]) {
      consumer.on(event, alive);
    }
    consumer.on(consumer.events.CRASH, (event) => {
      if (live()) this.current?.failed(event.payload.error);
    });
    return consumer;
  }

  /** Hands one record to the handler until it succeeds; kafkajs commits it only after that. */
  private async deliver({ topic, partition, message, heartbeat }: EachMessagePayload, generation: number): Promise<void> {
    const record = toConsumedRecord(topic, partition, message);
    const backoff = new Backoff(this.options.handlerBackoff ?? DEFAULT_HANDLER_BACKOFF);
    for (;;) {
      // Throwing leaves the record uncommitted: the next member of the group gets it again.
      if (this.closed || generation !== this.generation) throw new BusClosedError();
      this.inHandler += 1;
      try {
        await this.spec.handler(record);
        return;
      } catch (error) {
        this.options.onHandlerError?.(error, record);
        this.options.logger?.warn(
          { topic, partition, offset: record.offset, key: record.key, err: describeError(error) },
          "Event handler failed; delivering the record again",
        );
      } finally {
        this.inHandler -= 1;
        this.lastActivity = Date.now();
      }
      await delay(backoff.next(), this.abort.signal);
      // Keeps the membership alive through a long retry; throws during a rebalance, and kafkajs
      // then rejoins and fetches from the last committed offset, so the record comes back.
      await heartbeat();
    }
  }

  /**
   * Hands a partition's fetched records to the batch handler in chunks of at most `maxRecords`,
   * each until it succeeds. A chunk's offsets are resolved and committed only after its handler
   * resolved (for Central: after the batch's transaction committed); a throw leaves them
   * unresolved, so the same chunk is handed over again, here or, after a rebalance, elsewhere.
   */
  private async deliverBatch(payload: EachBatchPayload, generation: number, batch: { handler: BatchHandler; maxRecords: number }): Promise<void> {
    const { batch: fetched, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const records = fetched.messages.map((m) => toConsumedRecord(fetched.topic, fetched.partition, m));
    for (let i = 0; i < records.length; i += batch.maxRecords) {
      const chunk = records.slice(i, i + batch.maxRecords);
      const backoff = new Backoff(this.options.handlerBackoff ?? DEFAULT_HANDLER_BACKOFF);
      for (;;) {
        if (this.closed || generation !== this.generation || !isRunning() || isStale()) throw new BusClosedError();
        this.inHandler += 1;
        let failed = false;
        try {
          await batch.handler(chunk);
        } catch (error) {
          failed = true;
          this.options.onHandlerError?.(error, chunk[0]!);
          this.options.logger?.warn(
            { topic: fetched.topic, partition: fetched.partition, offset: chunk[0]!.offset, records: chunk.length, err: describeError(error) },
            "Batch handler failed; delivering the batch again",
          );
        } finally {
          this.inHandler -= 1;
          this.lastActivity = Date.now();
        }
        if (!failed) break;
        await delay(backoff.next(), this.abort.signal);
        await heartbeat();
      }
      resolveOffset(chunk[chunk.length - 1]!.offset);
      // Commit now rather than at the end of a long fetch: a crash then replays one chunk at most.
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  /** kafkajs can hang without crashing (e.g. a fetch on a half-open socket); treat that as a crash. */
  private checkStall(stallMs: number): void {
    if (!this.current || this.inHandler > 0 || Date.now() - this.lastActivity < stallMs) return;
    this.current.failed(new Error(`Kafka consumer showed no activity for ${stallMs} ms`));
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.watchdog);
      this.ready.reject(new BusClosedError());
      this.abort.abort(new BusClosedError());
    }
    await this.loop;
    this.link.close();
  }
}

export function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString();
  }
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key?.toString() ?? "",
    value: message.value?.toString() ?? "",
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

import type { Admin } from "kafkajs";
import { Backoff, delay } from "../backoff.ts";
import { raceAbort, withTimeout } from "./async.ts";
import {
  BusClosedError,
  DEFAULT_RECONNECT_BACKOFF,
  createKafkaClient,
  describeError,
  permanentKafkaError,
  type KafkaBusOptions,
} from "./kafka-config.ts";
import { LinkState } from "./link-state.ts";

/** Probe interval while the probe's link is down. */
const DOWN_PROBE_MS = 1_000;

/**
 * Topic creation and start positions, over a kafkajs admin client that is rebuilt after any
 * failure, like the producer. Every call retries until it succeeds, the caller aborts or the bus
 * closes, so a bus created while Kafka is down simply waits.
 */
export class TopicAdmin {
  readonly link = new LinkState();
  private admin?: Admin;
  private connecting?: Promise<Admin>;
  private readonly known = new Set<string>();
  private closed = false;
  private readonly abort = new AbortController();
  private probeTimer?: ReturnType<typeof setInterval>;
  private probing = false;

  constructor(private readonly options: KafkaBusOptions) {}

  /**
   * Asks the cluster for metadata every `intervalMs`, so that health() notices an outage while
   * nothing is being published (kafkajs finds a dead broker only when it sends something).
   */
  startProbe(intervalMs: number): void {
    if (this.probeTimer || intervalMs <= 0) return;
    let last = 0;
    const tick = () => {
      // While Kafka is unreachable, probe every second: the first answer wakes the consumers that
      // sleep between rebuilds (KafkaBus.linkChanged), one cheap request instead of each of them
      // retrying fast (issue 10).
      if (this.link.state !== "disconnected" && Date.now() - last < intervalMs) return;
      last = Date.now();
      void this.probeOnce();
    };
    tick();
    this.probeTimer = setInterval(tick, Math.min(intervalMs, DOWN_PROBE_MS));
  }

  private async probeOnce(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    try {
      const admin = await this.connectedAdmin();
      await withTimeout(admin.describeCluster(), this.options.requestTimeoutMs ?? 30_000, "Kafka probe");
      if (this.link.up()) this.options.logger?.info({}, "Kafka reachable again");
    } catch (error) {
      if (this.closed) return;
      if (this.link.down(error)) this.options.logger?.warn({ err: describeError(error) }, "Kafka unreachable");
      const admin = this.admin;
      this.admin = undefined;
      void admin?.disconnect().catch(() => {});
    } finally {
      this.probing = false;
    }
  }

  /** Creates the topic unless it exists; idempotent, and cached once it succeeded. */
  async ensureTopic(topic: string, signal?: AbortSignal): Promise<void> {
    if (this.known.has(topic)) return;
    const replicationFactor = this.options.replicationFactor ?? 1;
    // acks=all waits only for the in-sync replicas; with 3 replicas, requiring 2 of them means an
    // acknowledged record survives the loss of any one broker (the broker default is 1).
    const durability = replicationFactor >= 3 ? { "min.insync.replicas": "2" } : {};
    const configs = { ...durability, ...this.options.topicConfigs?.[topic] };
    await this.withAdmin(signal, `create topic ${topic}`, async (admin) => {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: this.options.partitions ?? 3,
            replicationFactor,
            configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
          },
        ],
        // Producing or joining before the partitions have leaders would fail; wait for them here.
        waitForLeaders: true,
      });
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      if (!metadata.topics[0]?.partitions.every((p) => p.leader >= 0)) throw new Error(`No leaders yet for ${topic}`);
    });
    this.known.add(topic);
  }

  /**
   * For a group that starts at "only new records": the current end offset of every partition
   * that has no committed offset for this group. The consumer seeks there after joining, which
   * commits the position; kafkajs alone would resolve "latest" lazily at its first fetch, and a
   * member rejoining during a rebalance would resolve it again, skipping records published in
   * between. Partitions with a committed offset resume from it.
   */
  async startPositions(groupId: string, topic: string, signal?: AbortSignal): Promise<Map<number, string>> {
    return this.withAdmin(signal, `read offsets of ${groupId}`, async (admin) => {
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const missing = new Set(
        (committed.find((t) => t.topic === topic)?.partitions ?? [])
          .filter((p) => Number(p.offset) < 0)
          .map((p) => p.partition),
      );
      const positions = new Map<number, string>();
      if (missing.size === 0) return positions;
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (missing.has(p.partition)) positions.set(p.partition, p.high);
      }
      return positions;
    });
  }

  private async withAdmin<T>(signal: AbortSignal | undefined, what: string, work: (admin: Admin) => Promise<T>): Promise<T> {
    const backoff = new Backoff(this.options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF);
    const timeoutMs = (this.options.requestTimeoutMs ?? 30_000) * 2;
    for (;;) {
      if (this.closed) throw new BusClosedError();
      signal?.throwIfAborted();
      try {
        const admin = await this.connectedAdmin();
        const result = await raceAbort(withTimeout(work(admin), timeoutMs, `Kafka admin: ${what}`), signal, this.abort.signal);
        if (this.link.up()) this.options.logger?.info({}, "Kafka admin reconnected");
        return result;
      } catch (error) {
        if (this.closed) throw new BusClosedError();
        signal?.throwIfAborted();
        const permanent = permanentKafkaError(error);
        if (permanent) throw new Error(`Kafka refused to ${what} (${permanent}): ${describeError(error)}`, { cause: error });
        if (this.link.down(error)) this.options.logger?.warn({ err: describeError(error) }, `Kafka admin failed to ${what}`);
        const admin = this.admin;
        this.admin = undefined;
        void admin?.disconnect().catch(() => {});
        await delay(backoff.next(), signal ? AbortSignal.any([this.abort.signal, signal]) : this.abort.signal);
      }
    }
  }

  /** One admin client shared by concurrent callers; connecting is shared too. */
  private connectedAdmin(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= this.connectAdmin().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectAdmin(): Promise<Admin> {
    const admin = createKafkaClient(this.options, "admin").admin();
    try {
      await withTimeout(admin.connect(), (this.options.connectionTimeoutMs ?? 3_000) * 5, "Kafka admin connect");
    } catch (error) {
      void admin.disconnect().catch(() => {});
      throw error;
    }
    if (this.closed) {
      void admin.disconnect().catch(() => {});
      throw new BusClosedError();
    }
    this.admin = admin;
    return admin;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probeTimer);
    this.abort.abort(new BusClosedError());
    this.link.close();
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => {});
  }
}

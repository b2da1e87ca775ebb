import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { eventBusContract } from "../contract/event-bus.contract.ts";
import { ensureKafka } from "../support/kafka.ts";
import { waitFor } from "../support/wait.ts";

// The shared EventBus contract against a real broker (scripts/kafka.sh, or KAFKA_BROKERS).
const run = randomUUID().slice(0, 8);
let n = 0;
eventBusContract("kafka", () => {
  let brokers: Promise<string[]> | undefined;
  return {
    createBus: async () => {
      brokers ??= ensureKafka();
      const bus = createKafkaBus({ brokers: await brokers, clientId: `contract-${run}` });
      await bus.ready(AbortSignal.timeout(60_000));
      return bus;
    },
    freshTopic: async (label) => `contract-${run}-${label}-${++n}`,
    // Joining a group and a first fetch take a few hundred ms on Kafka; the records themselves arrive in ms.
    deliveryTimeoutMs: 15_000,
  };
});

// Kafka-specific behaviour beyond the shared contract.
describe("KafkaBus on a real broker", () => {
  let bus: KafkaBus;
  beforeAll(async () => {
    bus = createKafkaBus({ brokers: await ensureKafka(), clientId: `kafka-bus-${run}` });
    await bus.ready(AbortSignal.timeout(60_000));
  });
  afterAll(async () => {
    await bus?.close();
  });

  it("survives a handler that throws a TypeError (kafkajs alone would crash for good)", async () => {
    const topic = `kafka-${run}-typeerror`;
    const seen: string[] = [];
    let failures = 0;
    const sub = await bus.subscribe(topic, { groupId: `${topic}-g` }, async (r) => {
      if (r.value === "1" && failures < 3) {
        failures += 1;
        throw new TypeError("a bug in the handler");
      }
      seen.push(r.value);
    });
    await bus.publish(topic, ["1", "2"].map((value) => ({ key: "cp", value })));
    await waitFor(() => seen.length >= 2, { timeoutMs: 15_000, what: "records after TypeErrors" });
    expect(seen).toEqual(["1", "2"]);
    expect(failures).toBe(3);
    expect(bus.health().state).toBe("connected");
    await sub.close();
  });

  it("handles partitions concurrently with `concurrency`, and one at a time without it", async () => {
    async function maxInFlight(concurrency: number | undefined): Promise<number> {
      const topic = `kafka-${run}-concurrency-${concurrency ?? "default"}`;
      let inFlight = 0;
      let max = 0;
      let done = 0;
      const sub = await bus.subscribe(topic, { groupId: `${topic}-g`, concurrency }, async () => {
        max = Math.max(max, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20)); // long enough for other partitions to start
        inFlight -= 1;
        done += 1;
      });
      // 12 keys spread over the topic's 3 partitions (murmur2 is deterministic, so always the same way)
      await bus.publish(topic, Array.from({ length: 48 }, (_, i) => ({ key: `cp-${i % 12}`, value: String(i) })));
      await waitFor(() => done >= 48, { timeoutMs: 20_000, what: "48 records" });
      await sub.close();
      return max;
    }
    expect(await maxInFlight(undefined)).toBe(1);
    expect(await maxInFlight(3)).toBeGreaterThan(1);
  });

  it("commits a batch's offsets as soon as its handler resolved, and none of a batch still in its handler", async () => {
    const topic = `kafka-${run}-batch-offsets`;
    const groupId = `${topic}-g`;
    let calls = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sub = await bus.subscribeBatch(topic, { groupId, fromBeginning: true, maxBatchRecords: 10 }, async () => {
      calls += 1;
      if (calls === 2) await held; // the second chunk of the same fetch is "in its transaction"
    });
    await bus.publish(topic, Array.from({ length: 30 }, (_, i) => ({ key: "cp", value: String(i) }))); // one key: one partition
    await waitFor(() => calls >= 2, { timeoutMs: 15_000, what: "the second batch in its handler" });
    const admin = new Kafka({ clientId: `kafka-bus-${run}-offsets`, brokers: await ensureKafka(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const committed = async () => {
        const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return Math.max(...(t?.partitions ?? []).map((p) => Number(p.offset)));
      };
      await waitFor(async () => (await committed()) >= 10, { timeoutMs: 10_000, what: "the first batch committed" });
      expect(await committed()).toBe(10); // the first 10, not the 10 still in the handler
      release();
      await waitFor(async () => (await committed()) >= 30, { timeoutMs: 15_000, what: "every batch committed" });
    } finally {
      release();
      await admin.disconnect();
      await sub.close();
    }
  });

  it("creates a missing topic with the configured partitions, and refuses replicas the cluster cannot hold", async () => {
    const brokers = await ensureKafka();
    const wide = createKafkaBus({ brokers, clientId: `kafka-bus-${run}-wide`, partitions: 5 });
    const topic = `kafka-${run}-five-partitions`;
    try {
      await wide.publish(topic, [{ key: "cp", value: "x" }]);
      const admin = new Kafka({ clientId: `kafka-bus-${run}-probe`, brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.disconnect();
      expect(meta.topics[0]?.partitions).toHaveLength(5);
    } finally {
      await wide.close();
    }
    // One broker cannot hold 3 replicas: a clear, permanent refusal instead of a retry loop.
    const replicated = createKafkaBus({ brokers, clientId: `kafka-bus-${run}-rf3`, replicationFactor: 3 });
    try {
      await expect(replicated.publish(`kafka-${run}-rf3`, [{ key: "cp", value: "x" }])).rejects.toThrow(/INVALID_REPLICATION_FACTOR/);
    } finally {
      await replicated.close();
    }
  });

  it("rejects records Kafka can never accept instead of retrying forever", async () => {
    const topic = `kafka-${run}-too-large`;
    const huge = "x".repeat(2 * 1024 * 1024);
    await expect(bus.publish(topic, [{ key: "cp", value: huge }])).rejects.toThrow(/TOO_LARGE/);
    // The producer is still usable afterwards.
    await bus.publish(topic, [{ key: "cp", value: "small" }]);
    expect(bus.health().state).toBe("connected");
  });
});

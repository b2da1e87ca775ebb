import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Forwarder } from "../../gateway/forwarder.ts";
import { createMemoryQueue } from "../../gateway/queue/memory-queue.ts";
import { encodeQueueRecord } from "../../gateway/queue-record.ts";
import type { BusErrorCode } from "../../platform/bus-error.ts";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { createKafkaBus, type KafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { DEFAULT_TOPICS, type TopicNames } from "../../protocol/index.ts";
import { ensureKafka } from "../support/kafka.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The forwarder's isolation of refused records against a real broker: the events topic is created
 * with max.message.bytes = 16 KiB, so Kafka itself answers MESSAGE_TOO_LARGE, both for one record
 * over it and for a partition batch over it. The producer must stay usable after each refusal.
 */
describe("forwarder on Kafka that refuses records for good", { timeout: 120_000 }, () => {
  const run = randomUUID().slice(0, 8);
  const topics: TopicNames = { ...DEFAULT_TOPICS, events: `fwd-${run}.events`, deadLetters: `fwd-${run}.dlq` };
  let bus: KafkaBus;
  const events: ConsumedRecord[] = [];
  const dlq: ConsumedRecord[] = [];

  beforeAll(async () => {
    bus = createKafkaBus({
      brokers: await ensureKafka(),
      clientId: `fwd-${run}`,
      partitions: 1,
      topicConfigs: { [topics.events]: { "max.message.bytes": "16384" } },
    });
    await bus.ready(AbortSignal.timeout(60_000));
    await bus.subscribe(topics.events, { groupId: `fwd-${run}-e`, fromBeginning: true }, async (r) => void events.push(r));
    await bus.subscribe(topics.deadLetters, { groupId: `fwd-${run}-d`, fromBeginning: true }, async (r) => void dlq.push(r));
  }, 120_000);
  afterAll(async () => bus?.close());

  it("splits a refused batch, replaces the one oversize record by a dead letter, and forwards the rest in order", async () => {
    const queue = createMemoryQueue({ maxBytes: 64 << 20 });
    const refused: BusErrorCode[] = [];
    const forwarder = new Forwarder({
      queue,
      bus,
      topics,
      log: createLogger("test"),
      onForwarded: () => {},
      onPublishError: () => {},
      onRefused: (code) => void refused.push(code),
      onDropped: () => {},
    });
    // 60 records of ~1 KB: together far over the topic's 16 KiB, each one well under it; and one of 20 KB.
    for (let i = 0; i < 60; i++) {
      if (i === 30) queue.append(encodeQueueRecord({ topic: "events", key: "cp-bad", value: JSON.stringify({ i: -1, pad: "\u0001".repeat(20_000) }) }));
      queue.append(encodeQueueRecord({ topic: "events", key: `cp-${i % 2}`, value: JSON.stringify({ i, pad: "x".repeat(1_000) }) }));
    }
    await waitFor(() => queue.stats().depth === 61, { what: "appends committed" });
    const started = performance.now();
    forwarder.start();
    await waitFor(() => queue.stats().depth === 0, { timeoutMs: 60_000, what: "queue drained" });
    console.log(`61 records, one refused, forwarded in ${Math.round(performance.now() - started)} ms`);
    await forwarder.stop(0);
    await waitFor(() => new Set(events.map((r) => r.value)).size >= 60 && dlq.length >= 1, { timeoutMs: 30_000, what: "records on Kafka" });
    for (const k of [0, 1]) {
      const firsts = [...new Set(events.filter((r) => r.key === `cp-${k}`).map((r) => JSON.parse(r.value).i as number))];
      expect(firsts).toEqual(Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 2 === k));
    }
    expect(events.some((r) => r.key === "cp-bad")).toBe(false);
    expect(refused).toEqual(["bus_record_too_large"]);
    expect(JSON.parse(dlq[0]!.value)).toMatchObject({ reason: "bus refused: bus_record_too_large", cpId: "cp-bad", topic: topics.events });
  });
});

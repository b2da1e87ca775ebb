import { afterEach, describe, expect, it } from "vitest";
import { Forwarder } from "../../gateway/forwarder.ts";
import { DEAD_LETTER_MAX_BYTES } from "../../protocol/dead-letter-encoding.ts";
import { createMemoryQueue } from "../../gateway/queue/memory-queue.ts";
import { encodeQueueRecord, type QueueRecord } from "../../gateway/queue-record.ts";
import type { BusErrorCode } from "../../platform/bus-error.ts";
import type { ConsumedRecord, EventBus } from "../../platform/event-bus.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The forwarder against a real bus that refuses what Kafka refuses: the in-process bus with a
 * small size limit (the same check that stands in for message.max.bytes on the embedded path).
 */
describe("forwarder: records the bus refuses for good", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  async function rig(options: { busLimit: number; maxBatchBytes?: number; maxRecordBytes?: number; wrap?: (bus: EventBus) => EventBus }) {
    const inner = new InProcessBus({ maxBatchBytes: options.busLimit });
    const bus = options.wrap ? options.wrap(inner) : inner;
    const queue = createMemoryQueue({ maxBytes: 64 << 20 });
    const events: ConsumedRecord[] = [];
    const dlq: ConsumedRecord[] = [];
    await inner.subscribe(DEFAULT_TOPICS.events, { groupId: "e", fromBeginning: true }, async (r) => void events.push(r));
    await inner.subscribe(DEFAULT_TOPICS.deadLetters, { groupId: "d", fromBeginning: true }, async (r) => void dlq.push(r));
    const refused: BusErrorCode[] = [];
    const dropped: BusErrorCode[] = [];
    let errors = 0;
    const forwarder = new Forwarder({
      queue,
      bus,
      topics: DEFAULT_TOPICS,
      log: createLogger("test"),
      limits: { maxBatchBytes: options.maxBatchBytes ?? 256 * 1024, maxRecordBytes: options.maxRecordBytes ?? 128 * 1024 },
      onForwarded: () => {},
      onPublishError: () => void (errors += 1),
      onRefused: (code) => void refused.push(code),
      onDropped: (code) => void dropped.push(code),
    });
    const append = (r: QueueRecord) => queue.append(encodeQueueRecord(r)).durable;
    stops.push(async () => {
      await forwarder.stop(0);
      await inner.close();
    });
    return { queue, events, dlq, refused, dropped, errors: () => errors, forwarder, append };
  }

  const event = (cpId: string, i: number, pad = 0) => ({ topic: "events" as const, key: cpId, value: JSON.stringify({ cpId, i, pad: "x".repeat(pad) }) });
  const order = (records: ConsumedRecord[], key: string) => records.filter((r) => r.key === key).map((r) => JSON.parse(r.value).i as number);

  it("isolates the record the bus refuses, replaces it by a bounded dead letter, and forwards everything else in order", async () => {
    const r = await rig({ busLimit: 16 * 1024 });
    for (let i = 0; i < 40; i++) {
      await r.append(event("cp-good", i));
      if (i === 17) await r.append(event("cp-bad", 0, 20_000)); // over the bus's limit on its own
      if (i % 5 === 0) await r.append(event("cp-bad", i + 1));
    }
    r.forwarder.start();
    await waitFor(() => r.queue.stats().depth === 0, { what: "queue drained" });
    expect(order(r.events, "cp-good")).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(order(r.events, "cp-bad")).toEqual([1, 6, 11, 16, 21, 26, 31, 36]);
    expect(r.refused).toEqual(["bus_record_too_large"]);
    expect(r.dlq).toHaveLength(1);
    expect(Buffer.byteLength(r.dlq[0]!.value)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    expect(JSON.parse(r.dlq[0]!.value)).toMatchObject({ source: "gateway", reason: "bus refused: bus_record_too_large", cpId: "cp-bad", truncated: true, topic: DEFAULT_TOPICS.events });
  });

  it("a batch refused only as a whole is split until every record goes through; nothing is dead-lettered", async () => {
    // Each record fits the bus; 40 of them together do not (forwarder's own bound is set higher on purpose).
    const r = await rig({ busLimit: 8 * 1024 });
    for (let i = 0; i < 40; i++) await r.append(event(`cp-${i % 3}`, i, 900));
    r.forwarder.start();
    await waitFor(() => r.queue.stats().depth === 0, { what: "queue drained" });
    expect(r.events).toHaveLength(40);
    for (const k of [0, 1, 2]) expect(order(r.events, `cp-${k}`)).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 === k));
    expect(r.refused).toEqual([]);
    expect(r.dlq).toHaveLength(0);
  });

  it("sends batches within FORWARD_BATCH_MAX_BYTES, so a bus with the same limit never refuses one", async () => {
    const sizes: number[] = [];
    const r = await rig({
      busLimit: 8 * 1024,
      maxBatchBytes: 8 * 1024,
      maxRecordBytes: 4 * 1024,
      wrap: (bus) => spy(bus, (records) => sizes.push(records.length)),
    });
    for (let i = 0; i < 60; i++) await r.append(event("cp-1", i, 900));
    r.forwarder.start();
    await waitFor(() => r.queue.stats().depth === 0, { what: "queue drained" });
    expect(order(r.events, "cp-1")).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(r.errors()).toBe(0);
    expect(sizes.length).toBeGreaterThan(1);
    console.log(`60 records of ~1 KB under an 8 KiB bound went out in ${sizes.length} publishes: ${sizes.join(", ")}`);
  });

  it("a record over FORWARD_RECORD_MAX_BYTES is replaced without asking the bus", async () => {
    const r = await rig({ busLimit: 1 << 20, maxRecordBytes: 4 * 1024 });
    await r.append(event("cp-1", 0));
    await r.append(event("cp-1", 1, 10_000));
    await r.append(event("cp-1", 2));
    r.forwarder.start();
    await waitFor(() => r.queue.stats().depth === 0, { what: "queue drained" });
    expect(order(r.events, "cp-1")).toEqual([0, 2]);
    expect(r.refused).toEqual(["bus_record_too_large"]);
    expect(r.dlq).toHaveLength(1);
  });

  it("if even the dead letter is refused, the record is counted as dropped and the queue moves on", async () => {
    const r = await rig({ busLimit: 1024 }); // below a full dead letter's size
    await r.append(event("cp-1", 0));
    await r.append(event("cp-1", 1, 5_000));
    await r.append(event("cp-1", 2));
    r.forwarder.start();
    await waitFor(() => r.queue.stats().depth === 0, { what: "queue drained" });
    expect(order(r.events, "cp-1")).toEqual([0, 2]);
    expect(r.refused).toEqual(["bus_record_too_large"]);
    expect(r.dropped).toEqual(["bus_record_too_large"]);
  });

  it("transient failures are retried, never dead-lettered", async () => {
    let failures = 3;
    const r = await rig({
      busLimit: 1 << 20,
      wrap: (bus) =>
        spy(bus, () => {
          if (failures-- > 0) throw new Error("connection lost");
        }),
    });
    for (let i = 0; i < 5; i++) await r.append(event("cp-1", i));
    r.forwarder.start();
    await waitFor(() => r.queue.stats().depth === 0, { timeoutMs: 15_000, what: "queue drained after the failures" });
    expect(order(r.events, "cp-1")).toEqual([0, 1, 2, 3, 4]);
    expect(r.errors()).toBe(3);
    expect(r.refused).toEqual([]);
  });
});

/** A bus that calls `before` ahead of every publish (which may throw, like a lost link). */
function spy(bus: EventBus, before: (records: { value: string }[]) => void): EventBus {
  return {
    kind: bus.kind,
    publish: async (topic, records, options) => {
      before(records);
      return bus.publish(topic, records, options);
    },
    subscribe: (topic, options, handler) => bus.subscribe(topic, options, handler),
    health: () => bus.health(),
    close: () => bus.close(),
  };
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BusError } from "../../platform/bus-error.ts";
import type { ConsumedRecord, EventBus } from "../../platform/event-bus.ts";
import { waitFor } from "../support/wait.ts";

export interface EventBusFixture {
  /** A connected bus; called several times (two buses model two processes where the kind allows). */
  createBus(): Promise<EventBus>;
  /** A topic name no other test uses. */
  freshTopic(label: string): Promise<string>;
  /** How long a record may take to arrive. */
  deliveryTimeoutMs?: number;
  teardown?(): Promise<void>;
}

/**
 * The contract every EventBus implementation must meet; the in-process bus and Kafka both run it.
 * Shaped after aedes-persistence's abstract.js: one suite, many implementations.
 */
export function eventBusContract(name: string, fixture: () => EventBusFixture): void {
  describe(`EventBus contract: ${name}`, () => {
    let fx: EventBusFixture;
    let bus: EventBus;
    const timeoutMs = () => fx.deliveryTimeoutMs ?? 5_000;

    beforeAll(async () => {
      fx = fixture();
      bus = await fx.createBus();
    });
    afterAll(async () => {
      await bus?.close();
      await fx?.teardown?.();
    });

    const collect = () => {
      const got: ConsumedRecord[] = [];
      return { got, handler: async (r: ConsumedRecord) => void got.push(r) };
    };

    it("delivers records with the same key in publish order", async () => {
      const topic = await fx.freshTopic("order");
      const { got, handler } = collect();
      const sub = await bus.subscribe(topic, { groupId: `${topic}-g` }, handler);
      const values = Array.from({ length: 50 }, (_, i) => `m${i}`);
      for (const v of values) await bus.publish(topic, [{ key: "cp-1", value: v }]);
      await waitFor(() => got.length >= 50, { timeoutMs: timeoutMs(), what: "50 records" });
      expect(got.map((r) => r.value)).toEqual(values);
      expect(got.every((r) => r.key === "cp-1" && r.topic === topic)).toBe(true);
      await sub.close();
    });

    it("keeps order per key when a batch mixes keys", async () => {
      const topic = await fx.freshTopic("batch");
      const { got, handler } = collect();
      const sub = await bus.subscribe(topic, { groupId: `${topic}-g` }, handler);
      const batch = Array.from({ length: 30 }, (_, i) => ({ key: `cp-${i % 3}`, value: String(i) }));
      await bus.publish(topic, batch);
      await waitFor(() => got.length >= 30, { timeoutMs: timeoutMs(), what: "30 records" });
      for (const key of ["cp-0", "cp-1", "cp-2"]) {
        const seen = got.filter((r) => r.key === key).map((r) => Number(r.value));
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect(seen).toHaveLength(10);
      }
      await sub.close();
    });

    it("keeps order per key, and one record per key at a time, when partitions are handled concurrently", async () => {
      const topic = await fx.freshTopic("concurrent");
      const seen = new Map<string, number[]>();
      const busy = new Set<string>();
      let overlapSameKey = false;
      const sub = await bus.subscribe(topic, { groupId: `${topic}-g`, concurrency: 4 }, async (r) => {
        if (busy.has(r.key)) overlapSameKey = true;
        busy.add(r.key);
        await new Promise((resolve) => setTimeout(resolve, Number(r.value) % 3)); // uneven handler times
        busy.delete(r.key);
        seen.set(r.key, [...(seen.get(r.key) ?? []), Number(r.value)]);
      });
      await bus.publish(topic, Array.from({ length: 60 }, (_, i) => ({ key: `cp-${i % 6}`, value: String(i) })));
      await waitFor(() => [...seen.values()].reduce((n, v) => n + v.length, 0) >= 60, { timeoutMs: timeoutMs(), what: "60 records" });
      expect(overlapSameKey).toBe(false);
      for (let k = 0; k < 6; k++) expect(seen.get(`cp-${k}`)).toEqual(Array.from({ length: 10 }, (_, i) => k + 6 * i));
      await sub.close();
    });

    it("gives every consumer group every record", async () => {
      const topic = await fx.freshTopic("groups");
      const a = collect();
      const b = collect();
      const subA = await bus.subscribe(topic, { groupId: `${topic}-a` }, a.handler);
      const subB = await bus.subscribe(topic, { groupId: `${topic}-b` }, b.handler);
      await bus.publish(topic, [{ key: "k", value: "1" }, { key: "k", value: "2" }]);
      await waitFor(() => a.got.length >= 2 && b.got.length >= 2, { timeoutMs: timeoutMs(), what: "both groups" });
      expect(a.got.map((r) => r.value)).toEqual(["1", "2"]);
      expect(b.got.map((r) => r.value)).toEqual(["1", "2"]);
      await subA.close();
      await subB.close();
    });

    it("shares a group's records between its members without duplicates", async () => {
      const topic = await fx.freshTopic("members");
      const seen: string[] = [];
      const handler = async (r: ConsumedRecord) => void seen.push(r.value);
      const s1 = await bus.subscribe(topic, { groupId: `${topic}-g` }, handler);
      const s2 = await bus.subscribe(topic, { groupId: `${topic}-g` }, handler);
      const records = Array.from({ length: 20 }, (_, i) => ({ key: `cp-${i}`, value: String(i) }));
      await bus.publish(topic, records);
      await waitFor(() => seen.length >= 20, { timeoutMs: timeoutMs(), what: "20 records" });
      expect(new Set(seen).size).toBe(20);
      expect(seen).toHaveLength(20);
      await s1.close();
      await s2.close();
    });

    it("redelivers a record whose handler failed before any later record of its key", async () => {
      const topic = await fx.freshTopic("retry");
      const seen: string[] = [];
      let failures = 0;
      const sub = await bus.subscribe(topic, { groupId: `${topic}-g` }, async (r) => {
        if (r.value === "2" && failures < 2) {
          failures += 1;
          throw new Error("Handler failed on purpose");
        }
        seen.push(r.value);
      });
      await bus.publish(topic, ["1", "2", "3"].map((value) => ({ key: "cp", value })));
      await waitFor(() => seen.length >= 3, { timeoutMs: timeoutMs() * 2, what: "3 records after retries" });
      expect(failures).toBe(2);
      expect(seen).toEqual(["1", "2", "3"]);
      await sub.close();
    });

    it("resumes a group from its committed position, and fromBeginning replays for a new group", async () => {
      const topic = await fx.freshTopic("resume");
      const first = collect();
      const sub1 = await bus.subscribe(topic, { groupId: `${topic}-g` }, first.handler);
      await bus.publish(topic, [{ key: "k", value: "a" }]);
      await waitFor(() => first.got.length >= 1, { timeoutMs: timeoutMs(), what: "first record" });
      await sub1.close();

      await bus.publish(topic, [{ key: "k", value: "b" }]);
      const second = collect();
      const sub2 = await bus.subscribe(topic, { groupId: `${topic}-g`, fromBeginning: true }, second.handler);
      await waitFor(() => second.got.length >= 1, { timeoutMs: timeoutMs(), what: "record published while away" });
      expect(second.got.map((r) => r.value)).toEqual(["b"]);

      const replay = collect();
      const sub3 = await bus.subscribe(topic, { groupId: `${topic}-new`, fromBeginning: true }, replay.handler);
      await waitFor(() => replay.got.length >= 2, { timeoutMs: timeoutMs(), what: "replay" });
      expect(replay.got.map((r) => r.value)).toEqual(["a", "b"]);
      await sub2.close();
      await sub3.close();
    });

    it("delivers between two bus instances as between two processes", async () => {
      const topic = await fx.freshTopic("cross");
      const other = await fx.createBus();
      try {
        const { got, handler } = collect();
        const sub = await other.subscribe(topic, { groupId: `${topic}-g` }, handler);
        await bus.publish(topic, [{ key: "cp", value: "x", headers: { "message-id": "m1" } }]);
        await waitFor(() => got.length >= 1, { timeoutMs: timeoutMs(), what: "cross-instance record" });
        expect(got[0]?.value).toBe("x");
        expect(got[0]?.headers?.["message-id"]).toBe("m1");
        await sub.close();
      } finally {
        await other.close();
      }
    });

    it("refuses an oversize record for good (bus_record_too_large, not retriable) and stays usable", async () => {
      const topic = await fx.freshTopic("oversize");
      const { got, handler } = collect();
      const sub = await bus.subscribe(topic, { groupId: `${topic}-g` }, handler);
      // Over Kafka's default message.max.bytes (1 MiB + 12), which the in-process bus enforces too.
      const error = await bus.publish(topic, [{ key: "cp", value: "x".repeat(1_100_000) }]).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(BusError);
      expect(error).toMatchObject({ code: "bus_record_too_large", retriable: false });
      await bus.publish(topic, [{ key: "cp", value: "after" }]);
      await waitFor(() => got.length >= 1, { timeoutMs: timeoutMs(), what: "the record after the refused one" });
      expect(got.map((r) => r.value)).toEqual(["after"]);
      await sub.close();
    });

    describe("batch consumption (subscribeBatch)", () => {
      const batchBus = () => {
        if (!bus.subscribeBatch) throw new Error(`${name} does not implement subscribeBatch`);
        return bus.subscribeBatch.bind(bus);
      };

      it("hands over batches of one partition, in per-key order, no larger than maxBatchRecords", async () => {
        const topic = await fx.freshTopic("batches");
        const batches: ConsumedRecord[][] = [];
        const sub = await batchBus()(topic, { groupId: `${topic}-g`, fromBeginning: true, maxBatchRecords: 7 }, async (records) => {
          batches.push(records);
        });
        await bus.publish(topic, Array.from({ length: 60 }, (_, i) => ({ key: `cp-${i % 6}`, value: String(i) })));
        await waitFor(() => batches.flat().length >= 60, { timeoutMs: timeoutMs(), what: "60 records in batches" });
        const all = batches.flat();
        expect(all).toHaveLength(60);
        expect(batches.every((b) => b.length >= 1 && b.length <= 7)).toBe(true);
        expect(batches.every((b) => b.every((r) => r.partition === b[0]!.partition))).toBe(true);
        for (const b of batches) {
          const offsets = b.map((r) => Number(r.offset));
          expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
        }
        for (let k = 0; k < 6; k++) {
          expect(all.filter((r) => r.key === `cp-${k}`).map((r) => Number(r.value))).toEqual(Array.from({ length: 10 }, (_, i) => k + 6 * i));
        }
        // Several records did share a call: a bus that handed over one at a time would not batch.
        expect(batches.some((b) => b.length > 1)).toBe(true);
        await sub.close();
      });

      it("hands a batch whose handler threw over again, before anything later of its partition", async () => {
        const topic = await fx.freshTopic("batch-retry");
        const calls: { values: string[]; failed: boolean }[] = [];
        let failures = 0;
        const sub = await batchBus()(topic, { groupId: `${topic}-g`, fromBeginning: true, maxBatchRecords: 100 }, async (records) => {
          const failed = records.some((r) => r.value === "b") && failures < 2;
          calls.push({ values: records.map((r) => r.value), failed });
          if (failed) {
            failures += 1;
            throw new Error("Batch handler failed on purpose");
          }
        });
        await bus.publish(topic, ["a", "b", "c"].map((value) => ({ key: "cp", value })));
        const succeeded = () => calls.filter((c) => !c.failed).flatMap((c) => c.values);
        await waitFor(() => succeeded().includes("c"), { timeoutMs: timeoutMs() * 2, what: "every record after two failures" });
        expect(failures).toBe(2);
        // A failed call is followed by one that starts at the same record: nothing skipped, nothing reordered.
        calls.forEach((c, i) => {
          if (c.failed) expect(calls[i + 1]?.values[0]).toBe(c.values[0]);
        });
        expect(succeeded()).toEqual(["a", "b", "c"]);
        await sub.close();
      });

      it("commits a batch only after its handler resolved", async () => {
        const topic = await fx.freshTopic("batch-commit");
        const group = `${topic}-g`;
        let attempts = 0;
        const failing = await batchBus()(topic, { groupId: group, fromBeginning: true }, async () => {
          attempts += 1;
          throw new Error("Database is down");
        });
        await bus.publish(topic, ["1", "2", "3"].map((value) => ({ key: "cp", value })));
        await waitFor(() => attempts >= 1, { timeoutMs: timeoutMs(), what: "a failing attempt" });
        await failing.close();

        // Never resolved, so never committed: the next member of the group gets every record.
        const second: string[] = [];
        const ok = await batchBus()(topic, { groupId: group, fromBeginning: true }, async (records) => void second.push(...records.map((r) => r.value)));
        await waitFor(() => second.length >= 3, { timeoutMs: timeoutMs(), what: "the uncommitted batch again" });
        expect(second).toEqual(["1", "2", "3"]);
        await ok.close();

        // Resolved, so committed: a later member starts after them.
        await bus.publish(topic, [{ key: "cp", value: "4" }]);
        const third: string[] = [];
        const later = await batchBus()(topic, { groupId: group, fromBeginning: true }, async (records) => void third.push(...records.map((r) => r.value)));
        await waitFor(() => third.length >= 1, { timeoutMs: timeoutMs(), what: "the record after the committed batch" });
        expect(third).toEqual(["4"]);
        await later.close();
      });
    });

    it("reports itself connected, and refuses to publish once closed", async () => {
      const extra = await fx.createBus();
      expect(extra.health().state).toBe("connected");
      await extra.close();
      expect(extra.health().state).toBe("closed");
      await expect(extra.publish(await fx.freshTopic("closed"), [{ key: "k", value: "v" }])).rejects.toThrow();
    });
  });
}

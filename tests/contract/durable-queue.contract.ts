import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../platform/clock.ts";
import type { DurableQueue } from "../../gateway/queue/durable-queue.ts";
import { waitFor } from "../support/wait.ts";

export interface QueueUnderTest {
  queue: DurableQueue;
  /**
   * Opens the same storage again; call after `queue.close()`. For a persistent implementation the
   * new queue sees what the old one made durable; otherwise it starts empty.
   */
  reopen(): Promise<DurableQueue>;
}

export interface DurableQueueFixture {
  /** Whether entries and acks survive close + reopen. Decides whether the durability tests run. */
  persistent: boolean;
  create(options: { maxBytes: number; clock: ManualClock }): Promise<QueueUnderTest>;
  teardown?(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (text: string) => enc.encode(text);
const text = (data: Uint8Array) => dec.decode(data);

/**
 * The contract every DurableQueue implementation meets: the file queue and the in-memory queue
 * both run it. Durability across reopen runs only for persistent fixtures, in its own describe.
 */
export function durableQueueContract(name: string, fixture: DurableQueueFixture): void {
  describe(`DurableQueue contract: ${name}`, () => {
    const open: DurableQueue[] = [];
    let clock: ManualClock;

    async function create(maxBytes = 1 << 20): Promise<QueueUnderTest> {
      clock = new ManualClock();
      const made = await fixture.create({ maxBytes, clock });
      open.push(made.queue);
      return {
        queue: made.queue,
        reopen: async () => {
          const again = await made.reopen();
          open.push(again);
          return again;
        },
      };
    }

    afterEach(async () => {
      for (const queue of open.splice(0)) await queue.close();
      await fixture.teardown?.();
    });

    it("assigns seqs synchronously, in call order, one apart", async () => {
      const { queue } = await create();
      const seqs = Array.from({ length: 20 }, (_, i) => queue.append(bytes(`m${i}`)).seq);
      expect(seqs[0]).toBeGreaterThanOrEqual(1);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      const later = queue.append(bytes("later"));
      expect(later.seq).toBe(seqs[19]! + 1);
      await later.durable;
    });

    it("peeks durable entries oldest first without removing them", async () => {
      const { queue } = await create();
      const appended = ["a", "b", "c", "d"].map((v) => queue.append(bytes(v)));
      await Promise.all(appended.map((a) => a.durable));
      const first = await queue.peek(2);
      expect(first.map((e) => [e.seq, text(e.data)])).toEqual([
        [appended[0]!.seq, "a"],
        [appended[1]!.seq, "b"],
      ]);
      const all = await queue.peek(10);
      expect(all.map((e) => text(e.data))).toEqual(["a", "b", "c", "d"]);
      expect(await queue.peek(0)).toEqual([]);
    });

    it("stamps entries with the clock's time", async () => {
      const { queue } = await create();
      const t0 = clock.now();
      await queue.append(bytes("x")).durable;
      clock.advance(1_000);
      await queue.append(bytes("y")).durable;
      const [x, y] = await queue.peek(2);
      expect(x!.enqueuedAt).toBe(t0);
      expect(y!.enqueuedAt).toBe(t0 + 1_000);
    });

    it("keeps its own copy: neither the appended buffer nor a peeked one can change an entry", async () => {
      const { queue } = await create();
      const input = bytes("original");
      const { durable } = queue.append(input);
      input.fill(0x21);
      await durable;
      const [peeked] = await queue.peek(1);
      expect(text(peeked!.data)).toBe("original");
      peeked!.data.fill(0x3f);
      const [again] = await queue.peek(1);
      expect(text(again!.data)).toBe("original");
    });

    it("stores empty and binary payloads exactly", async () => {
      const { queue } = await create();
      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      await Promise.all([queue.append(new Uint8Array(0)).durable, queue.append(binary).durable]);
      const [empty, bin] = await queue.peek(2);
      expect(empty!.data).toHaveLength(0);
      expect([...bin!.data]).toEqual([...binary]);
    });

    it("ack removes every entry up to the seq, and the rest stays in order", async () => {
      const { queue } = await create();
      const appended = ["a", "b", "c", "d", "e"].map((v) => queue.append(bytes(v)));
      await Promise.all(appended.map((a) => a.durable));
      await queue.ack(appended[2]!.seq);
      expect((await queue.peek(10)).map((e) => text(e.data))).toEqual(["d", "e"]);
      // Acking again, or below what is acked, changes nothing and still resolves.
      await queue.ack(appended[1]!.seq);
      await queue.ack(appended[2]!.seq);
      expect((await queue.peek(10)).map((e) => e.seq)).toEqual([appended[3]!.seq, appended[4]!.seq]);
      await queue.ack(appended[4]!.seq);
      expect(await queue.peek(10)).toEqual([]);
    });

    it("hides acknowledged entries from peek as soon as ack is called", async () => {
      const { queue } = await create();
      const appended = ["a", "b"].map((v) => queue.append(bytes(v)));
      await Promise.all(appended.map((a) => a.durable));
      const acked = queue.ack(appended[0]!.seq);
      expect((await queue.peek(10)).map((e) => text(e.data))).toEqual(["b"]);
      await acked;
    });

    it("refuses to ack what is not durable, or a seq that is not one", async () => {
      const { queue } = await create();
      const a = queue.append(bytes("a"));
      await a.durable;
      await expect(queue.ack(a.seq + 1)).rejects.toThrow(RangeError);
      await expect(queue.ack(1.5)).rejects.toThrow(RangeError);
      await expect(queue.ack(-1)).rejects.toThrow(RangeError);
      await queue.ack(0);
      expect(await queue.peek(1)).toHaveLength(1);
    });

    it("coalesces many concurrent acks and resolves each of them", async () => {
      const { queue } = await create();
      const appended = Array.from({ length: 30 }, (_, i) => queue.append(bytes(`m${i}`)));
      await Promise.all(appended.map((a) => a.durable));
      await Promise.all(appended.map((a) => queue.ack(a.seq)));
      expect(await queue.peek(100)).toEqual([]);
      expect(queue.stats().depth).toBe(0);
    });

    it("keeps order under many concurrent appends interleaved with acks", async () => {
      const { queue } = await create();
      const producers = Array.from({ length: 8 }, async (_, p) => {
        const seqs: number[] = [];
        for (let i = 0; i < 25; i++) {
          const { seq, durable } = queue.append(bytes(`p${p}-${i}`));
          seqs.push(seq);
          await durable;
        }
        return seqs;
      });
      const consumed: string[] = [];
      const consumer = (async () => {
        while (consumed.length < 200) {
          await queue.waitForData();
          const batch = await queue.peek(17);
          consumed.push(...batch.map((e) => text(e.data)));
          await queue.ack(batch[batch.length - 1]!.seq);
        }
      })();
      const perProducer = await Promise.all(producers);
      await consumer;
      for (const seqs of perProducer) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      for (let p = 0; p < 8; p++) {
        expect(consumed.filter((v) => v.startsWith(`p${p}-`))).toEqual(Array.from({ length: 25 }, (_, i) => `p${p}-${i}`));
      }
      expect(consumed).toHaveLength(200);
    });

    it("waitForData resolves at once when there is data, and later when data becomes durable", async () => {
      const { queue } = await create();
      let woke = false;
      const waiting = queue.waitForData().then(() => (woke = true));
      // Nothing appended yet: a round trip through the queue must not wake the waiter.
      expect(await queue.peek(1)).toEqual([]);
      expect(woke).toBe(false);
      const { durable } = queue.append(bytes("x"));
      await durable;
      await waiting;
      expect(woke).toBe(true);
      await queue.waitForData();
    });

    it("waitForData does not count acknowledged entries as data", async () => {
      const { queue } = await create();
      const a = queue.append(bytes("a"));
      await a.durable;
      const acked = queue.ack(a.seq);
      let woke = false;
      const waiting = queue.waitForData().then(() => (woke = true));
      await acked;
      expect(woke).toBe(false);
      await queue.append(bytes("b")).durable;
      await waiting;
    });

    it("waitForData rejects with the abort reason, also when already aborted", async () => {
      const { queue } = await create();
      const controller = new AbortController();
      const waiting = queue.waitForData(controller.signal);
      controller.abort(new Error("stop waiting"));
      await expect(waiting).rejects.toThrow("stop waiting");
      await expect(queue.waitForData(controller.signal)).rejects.toThrow("stop waiting");
    });

    it("applies backpressure when full: later appends wait, in order, until acks free space", async () => {
      const { queue } = await create(1_000);
      const payload = (tag: string) => bytes(tag.padEnd(200, "."));
      const fitting = Array.from({ length: 4 }, (_, i) => queue.append(payload(`fit${i}`)));
      await Promise.all(fitting.map((a) => a.durable));
      const overhead = queue.stats().bytes / 4 - 200;
      expect(overhead).toBeGreaterThanOrEqual(0);
      // The fifth entry cannot fit while four are unacknowledged (that holds for any overhead under 50 bytes).
      expect(overhead).toBeLessThan(50);

      const settled: number[] = [];
      const blocked = queue.append(payload("blocked"));
      // Even a tiny entry waits behind the blocked one, or the log would leave seq order.
      const small = queue.append(bytes("s"));
      expect(small.seq).toBe(blocked.seq + 1);
      void blocked.durable.then(() => settled.push(blocked.seq));
      void small.durable.then(() => settled.push(small.seq));
      expect(queue.stats().blockedAppends).toBe(2);
      // Round trips through the queue, and new waiters, do not admit them: only acks free space.
      expect(await queue.peek(10)).toHaveLength(4);
      expect(settled).toEqual([]);
      expect(queue.stats()).toMatchObject({ depth: 4, blockedAppends: 2 });

      await queue.ack(fitting[0]!.seq);
      await Promise.all([blocked.durable, small.durable]);
      expect(settled).toEqual([blocked.seq, small.seq]);
      expect(queue.stats().blockedAppends).toBe(0);
      expect((await queue.peek(10)).map((e) => e.seq)).toEqual([
        fitting[1]!.seq,
        fitting[2]!.seq,
        fitting[3]!.seq,
        blocked.seq,
        small.seq,
      ]);
    });

    it("admits blocked appends only as far as space allows", async () => {
      const { queue } = await create(1_000);
      const payload = bytes("x".repeat(400));
      const first = queue.append(payload);
      const second = queue.append(payload);
      await Promise.all([first.durable, second.durable]);
      const waiting = Array.from({ length: 3 }, () => queue.append(payload));
      expect(queue.stats().blockedAppends).toBe(3);
      await queue.ack(first.seq);
      await waiting[0]!.durable;
      expect(queue.stats().blockedAppends).toBe(2);
      await queue.ack(waiting[0]!.seq);
      await Promise.all(waiting.slice(1).map((w) => w.durable));
      expect(queue.stats()).toMatchObject({ depth: 2, blockedAppends: 0 });
    });

    it("refuses an entry larger than the whole queue at once, without using a seq", async () => {
      const { queue } = await create(1_000);
      const before = queue.append(bytes("a"));
      expect(() => queue.append(new Uint8Array(1_001))).toThrow(RangeError);
      const after = queue.append(bytes("b"));
      expect(after.seq).toBe(before.seq + 1);
      await Promise.all([before.durable, after.durable]);
    });

    it("reports depth, bytes and the oldest entry's age", async () => {
      const { queue } = await create();
      // toMatchObject: implementations may report more (the file queue adds fsync counters).
      expect(queue.stats()).toMatchObject({ depth: 0, bytes: 0, oldestAgeMs: 0, blockedAppends: 0 } satisfies ReturnType<DurableQueue["stats"]>);
      const a = queue.append(bytes("x".repeat(100)));
      clock.advance(2_000);
      const b = queue.append(bytes("y".repeat(300)));
      await Promise.all([a.durable, b.durable]);
      clock.advance(3_000);
      const both = queue.stats();
      expect(both.depth).toBe(2);
      expect(both.oldestAgeMs).toBe(5_000);
      const overhead = (both.bytes - 400) / 2;
      expect(Number.isInteger(overhead) && overhead >= 0).toBe(true);
      await queue.ack(a.seq);
      expect(queue.stats()).toMatchObject({ depth: 1, bytes: 300 + overhead, oldestAgeMs: 3_000 });
      await queue.ack(b.seq);
      expect(queue.stats()).toMatchObject({ depth: 0, bytes: 0, oldestAgeMs: 0 });
    });

    it("counts entries in depth from the moment they are admitted", async () => {
      const { queue } = await create();
      const a = queue.append(bytes("a"));
      expect(queue.stats().depth).toBe(1);
      await a.durable;
      expect(queue.stats().depth).toBe(1);
    });

    it("on close: commits what was admitted, rejects what waited for space, refuses new work", async () => {
      const { queue } = await create(1_000);
      const admitted = queue.append(bytes("x".repeat(900)));
      const waitingForSpace = queue.append(bytes("y".repeat(200)));
      expect(queue.stats().blockedAppends).toBe(1);
      const closing = queue.close();
      await admitted.durable;
      await expect(waitingForSpace.durable).rejects.toThrow(/closed/);
      await closing;
      await queue.close(); // idempotent
      expect(() => queue.append(bytes("z"))).toThrow(/closed/);
      await expect(queue.peek(1)).rejects.toThrow(/closed/);
      await expect(queue.ack(admitted.seq)).rejects.toThrow(/closed/);
      await expect(queue.waitForData()).rejects.toThrow(/closed/);
    });

    it("on close: wakes a reader waiting for data with an error", async () => {
      const { queue } = await create();
      const woken = expect(queue.waitForData()).rejects.toThrow(/closed/);
      await queue.close();
      await woken;
    });

    it("resolves appends made just before close", async () => {
      const { queue } = await create();
      const appended = Array.from({ length: 10 }, (_, i) => queue.append(bytes(`m${i}`)));
      await queue.close();
      await Promise.all(appended.map((a) => a.durable));
    });

    it("can wait for data across a whole fill-and-drain cycle", async () => {
      const { queue } = await create(2_000);
      const total = 60;
      const produced = (async () => {
        for (let i = 0; i < total; i++) await queue.append(bytes(`e${i}`.padEnd(100, "-"))).durable;
      })();
      const seen: string[] = [];
      while (seen.length < total) {
        await queue.waitForData();
        const batch = await queue.peek(7);
        seen.push(...batch.map((e) => text(e.data).replace(/-+$/, "")));
        await queue.ack(batch[batch.length - 1]!.seq);
      }
      await produced;
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => `e${i}`));
      await waitFor(() => queue.stats().depth === 0, { what: "empty queue" });
    });

    if (fixture.persistent) {
      describe("durability across reopen", () => {
        it("recovers every entry whose append resolved, with seq, payload and time", async () => {
          const made = await create();
          const appended = ["a", "b", "c"].map((v) => made.queue.append(bytes(v)));
          await Promise.all(appended.map((a) => a.durable));
          await made.queue.close();
          const reopened = await made.reopen();
          const entries = await reopened.peek(10);
          expect(entries.map((e) => [e.seq, text(e.data), e.enqueuedAt])).toEqual(
            appended.map((a, i) => [a.seq, ["a", "b", "c"][i], clock.now()]),
          );
          expect(reopened.stats().depth).toBe(3);
          const next = reopened.append(bytes("d"));
          expect(next.seq).toBe(appended[2]!.seq + 1);
          await next.durable;
        });

        it("keeps acks: acknowledged entries do not come back", async () => {
          const made = await create();
          const appended = ["a", "b", "c", "d"].map((v) => made.queue.append(bytes(v)));
          await Promise.all(appended.map((a) => a.durable));
          await made.queue.ack(appended[1]!.seq);
          await made.queue.close();
          const reopened = await made.reopen();
          expect((await reopened.peek(10)).map((e) => text(e.data))).toEqual(["c", "d"]);
        });

        it("never reuses a seq, even when everything was acknowledged", async () => {
          const made = await create();
          const appended = ["a", "b"].map((v) => made.queue.append(bytes(v)));
          await Promise.all(appended.map((a) => a.durable));
          await made.queue.ack(appended[1]!.seq);
          await made.queue.close();
          const reopened = await made.reopen();
          expect(await reopened.peek(10)).toEqual([]);
          expect(reopened.stats()).toMatchObject({ depth: 0, bytes: 0 });
          const next = reopened.append(bytes("c"));
          expect(next.seq).toBe(appended[1]!.seq + 1);
          await next.durable;
        });

        it("survives several reopen cycles with appends and acks in between", async () => {
          const made = await create();
          let queue = made.queue;
          const expected: string[] = [];
          let lastSeq = 0;
          for (let round = 0; round < 4; round++) {
            const appended = Array.from({ length: 5 }, (_, i) => queue.append(bytes(`r${round}-${i}`)));
            await Promise.all(appended.map((a) => a.durable));
            expect(appended[0]!.seq).toBe(lastSeq + 1);
            lastSeq = appended[4]!.seq;
            expected.push(...appended.map((_, i) => `r${round}-${i}`));
            await queue.ack(appended[1]!.seq);
            expected.splice(0, expected.indexOf(`r${round}-1`) + 1);
            await queue.close();
            queue = await made.reopen();
            expect((await queue.peek(100)).map((e) => text(e.data))).toEqual(expected);
          }
        });

        it("stays bounded after reopen: recovered bytes count against maxBytes", async () => {
          const made = await create(1_000);
          const appended = Array.from({ length: 4 }, (_, i) => made.queue.append(bytes(`${i}`.padEnd(200, "."))));
          await Promise.all(appended.map((a) => a.durable));
          await made.queue.close();
          const reopened = await made.reopen();
          const blocked = reopened.append(bytes("x".repeat(200)));
          expect(reopened.stats().blockedAppends).toBe(1);
          await reopened.ack(appended[0]!.seq);
          await blocked.durable;
          expect(reopened.stats().blockedAppends).toBe(0);
        });
      });
    }
  });
}

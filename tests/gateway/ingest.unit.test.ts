import { describe, expect, it } from "vitest";
import { DEAD_LETTER_MAX_BYTES } from "../../protocol/dead-letter-encoding.ts";
import { deadLetterLimit } from "../../gateway/ingest/dead-letter-limit.ts";
import { createIngest } from "../../gateway/ingest/ingest.ts";
import { createMemoryQueue } from "../../gateway/queue/memory-queue.ts";
import { decodeQueueRecord } from "../../gateway/queue-record.ts";
import { ManualClock } from "../../platform/clock.ts";

describe("ingest", () => {
  function setup(perMinute: number, maxRecordBytes = 128 * 1024) {
    const clock = new ManualClock();
    const queue = createMemoryQueue({ maxBytes: 64 << 20 });
    const limited: string[] = [];
    const invalid: string[] = [];
    const ingest = createIngest({
      queue,
      gatewayId: "gw",
      clock,
      maxPayloadBytes: 16 * 1024,
      maxRecordBytes,
      admitDeadLetter: deadLetterLimit(perMinute, clock).admit,
      onAccepted: () => {},
      onInvalid: (cpId) => void invalid.push(cpId),
      onDeadLetterLimited: (cpId) => void limited.push(cpId),
    });
    const records = async () => (await queue.peek(10_000)).map((e) => ({ ...decodeQueueRecord(e.data), diskBytes: e.data.byteLength }));
    return { clock, queue, ingest, limited, invalid, records };
  }
  const heartbeat = (id: string) => JSON.stringify({ id, ts: new Date().toISOString() });
  const garbage = new Uint8Array(8 * 1024).map((_, i) => (i % 3 === 0 ? 0x22 : i % 32));

  it("a garbage dead letter costs bounded bytes on the bus and on disk, however it is escaped", async () => {
    const { ingest, records } = setup(60);
    await ingest("cp-bad", "heartbeat", garbage).durable;
    const [r] = await records();
    expect(r).toMatchObject({ topic: "deadLetters", key: "cp-bad" });
    expect(new TextEncoder().encode(r!.value).byteLength).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    console.log(`8 KiB of control characters and quotes: ${new TextEncoder().encode(r!.value).byteLength} bytes on the bus, ${r!.diskBytes} in the queue`);
    expect(r!.diskBytes).toBeLessThanOrEqual(2 * DEAD_LETTER_MAX_BYTES + 100);
  });

  it("limits one charger's dead letters per minute; its valid messages and other chargers are unaffected", async () => {
    const { clock, ingest, limited, invalid, records } = setup(3);
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(ingest("cp-bad", "heartbeat", garbage));
    await Promise.all(outcomes.map((o) => o.durable));
    expect(outcomes.map((o) => o.outcome)).toEqual(["dead_lettered", "dead_lettered", "dead_lettered", "rate_limited", "rate_limited"]);
    expect(ingest("cp-bad", "heartbeat", heartbeat("h1")).outcome).toBe("accepted");
    expect(ingest("cp-other", "heartbeat", garbage).outcome).toBe("dead_lettered");
    clock.advance(20_000); // one token back at 3 a minute
    expect(ingest("cp-bad", "heartbeat", garbage).outcome).toBe("dead_lettered");
    expect(ingest("cp-bad", "heartbeat", garbage).outcome).toBe("rate_limited");
    expect(limited).toEqual(["cp-bad", "cp-bad", "cp-bad"]);
    expect(invalid).toHaveLength(5);
    await ingest("cp-bad", "heartbeat", heartbeat("h2")).durable; // appends commit in order: all before are in
    const queued = await records();
    expect(queued.map((r) => `${r.topic}:${r.key}`)).toEqual([
      "deadLetters:cp-bad",
      "deadLetters:cp-bad",
      "deadLetters:cp-bad",
      "events:cp-bad",
      "deadLetters:cp-other",
      "deadLetters:cp-bad",
      "events:cp-bad",
    ]);
  });

  it("DEAD_LETTERS_PER_MINUTE=0 turns the limit off", async () => {
    const { ingest } = setup(0);
    for (let i = 0; i < 100; i++) expect(ingest("cp-bad", "heartbeat", "nope").outcome).toBe("dead_lettered");
  });

  it("a valid event whose record would be over FORWARD_RECORD_MAX_BYTES is dead-lettered here, not sent", async () => {
    // A small bound stands in for MAX_PAYLOAD_BYTES set above FORWARD_RECORD_MAX_BYTES.
    const { ingest, records } = setup(60, 160);
    const result = ingest("cp-1", "heartbeat", heartbeat("a-valid-heartbeat-whose-event-record-is-over-the-bound"));
    expect(result.outcome).toBe("dead_lettered");
    await result.durable;
    const [r] = await records();
    expect(JSON.parse(r!.value).reason).toBe("event record exceeds 160 bytes");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleEventBatch, handleEventRecord } from "../../central/events/event-consumer.ts";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { DEAD_LETTER_MAX_BYTES } from "../../protocol/index.ts";
import { createCentralHarness, OPERATOR, type CentralHarness } from "../support/central-harness.ts";
import { waitFor } from "../support/wait.ts";

/** A record the database refuses deterministically must not block the records behind it. */
describe("a poison event", () => {
  let h: CentralHarness;
  const bus = new InProcessBus();
  const letters: string[] = [];
  let offset = 0;
  const record = (cpId: string, type: string, payload: Record<string, unknown>): ConsumedRecord => ({
    topic: "events",
    partition: 0,
    offset: String(offset++),
    timestamp: Date.now(),
    key: cpId,
    value: JSON.stringify({ kind: "up", cpId, type, payload: { id: `p-${offset}`, ts: new Date(h.clock.now()).toISOString(), ...payload }, gatewayId: "gw", receivedAt: new Date().toISOString() }),
  });

  beforeAll(async () => {
    h = await createCentralHarness();
    await bus.subscribe(h.central.ctx.topics.deadLetters, { groupId: "t", fromBeginning: true }, async (r) => void letters.push(r.value));
    await h.provision("cp-p");
    // Stand-in for any value the schema lets through but the database refuses.
    await h.db.query("ALTER TABLE charge_points ADD CONSTRAINT test_no_poison CHECK (vendor IS NULL OR vendor <> 'poison')");
  });
  afterAll(async () => {
    await h?.close();
    await bus.close();
  });

  it("is dead-lettered with the database's reason, and the next event is applied", async () => {
    await handleEventRecord(h.central.ctx, bus, record("cp-p", "boot", { vendor: "poison", model: "m", firmware: "f" }));
    await handleEventRecord(h.central.ctx, bus, record("cp-p", "boot", { vendor: "good", model: "m", firmware: "f" }));
    expect((await h.request("GET", "/v1/charge-points/cp-p", OPERATOR)).body.vendor).toBe("good");
    await waitFor(() => letters.length >= 1, { what: "dead letter" });
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!).reason).toMatch(/database refused the event \(23514\)/);
  });

  it("costs at most DEAD_LETTER_MAX_BYTES on the bus however large it is, and says where the whole record is", async () => {
    const before = letters.length;
    // 100 KB of control characters: JSON escapes each to 6 bytes, so a character cut would be ~600 KB.
    const huge = { ...record("cp-p", "boot", { vendor: "x", model: "m", firmware: "f" }), value: "\u0001".repeat(100_000) };
    await handleEventRecord(h.central.ctx, bus, huge);
    await waitFor(() => letters.length > before, { what: "dead letter of the huge record" });
    const letter = letters[before]!;
    expect(new TextEncoder().encode(letter).byteLength).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    expect(JSON.parse(letter)).toMatchObject({ source: "central", truncated: true, rawBytes: 100_000 });
    expect(JSON.parse(letter).reason).toContain(`partition 0 offset ${huge.offset}`);
  });

  it("in a batch, is dead-lettered alone: the records around it are applied, and so is an undecodable one's neighbour", async () => {
    await h.provision("cp-q");
    const before = letters.length;
    const batch = [
      record("cp-q", "heartbeat", {}),
      record("cp-p", "boot", { vendor: "poison", model: "m", firmware: "f" }),
      { ...record("cp-q", "heartbeat", {}), value: "{ not json" },
      record("cp-q", "boot", { vendor: "after-poison", model: "m", firmware: "f" }),
      record("cp-p", "boot", { vendor: "good-again", model: "m", firmware: "f" }),
    ];
    const fallbacks = async () => (await h.central.ctx.metrics.eventBatchFallbacks.get()).values[0]?.value ?? 0;
    const fallbacksBefore = await fallbacks();
    await handleEventBatch(h.central.ctx, bus, batch);
    expect(await fallbacks()).toBe(fallbacksBefore + 1);
    expect((await h.request("GET", "/v1/charge-points/cp-q", OPERATOR)).body.vendor).toBe("after-poison");
    expect((await h.request("GET", "/v1/charge-points/cp-p", OPERATOR)).body.vendor).toBe("good-again");
    const ids = await h.db.query<{ message_id: string }>("SELECT message_id FROM processed_messages WHERE cp_id = 'cp-q' ORDER BY message_id");
    expect(ids.map((r) => r.message_id).sort()).toEqual([JSON.parse(batch[0]!.value).payload.id, JSON.parse(batch[3]!.value).payload.id].sort());
    await waitFor(() => letters.length >= before + 2, { what: "two dead letters" });
    const reasons = letters.slice(before).map((l) => JSON.parse(l).reason as string);
    expect(reasons).toHaveLength(2);
    expect(reasons.some((r) => /database refused the event \(23514\)/.test(r))).toBe(true);
    expect(reasons.some((r) => /not valid JSON/.test(r))).toBe(true);
    // Applied again (a redelivery after a crash): nothing is applied twice, nothing dead-lettered again but the poison.
    await handleEventBatch(h.central.ctx, bus, batch);
    expect((await h.request("GET", "/v1/charge-points/cp-p", OPERATOR)).body.vendor).toBe("good-again");
  });

  it("still throws for failures worth retrying", async () => {
    const broken = { ...h.central.ctx, db: { ...h.db, transaction: async () => Promise.reject(new Error("Connection lost")) } };
    await expect(handleEventRecord(broken, bus, record("cp-p", "heartbeat", {}))).rejects.toThrow("Connection lost");
    await expect(handleEventBatch(broken, bus, [record("cp-p", "heartbeat", {})])).rejects.toThrow("Connection lost");
  });
});

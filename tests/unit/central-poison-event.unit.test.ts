import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleEventRecord } from "../../central/events/event-consumer.ts";
import type { ConsumedRecord } from "../../platform/event-bus.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
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

  it("still throws for failures worth retrying", async () => {
    const broken = { ...h.central.ctx, db: { ...h.db, transaction: async () => Promise.reject(new Error("Connection lost")) } };
    await expect(handleEventRecord(broken, bus, record("cp-p", "heartbeat", {}))).rejects.toThrow("Connection lost");
  });
});

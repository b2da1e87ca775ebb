import { describe, expect, it } from "vitest";
import { createCentralHarness } from "../support/central-harness.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The event consumer's wiring: with CENTRAL_EVENT_BATCHING (the default) a backlog is applied in
 * batch transactions of at most CENTRAL_BATCH_MAX_RECORDS; with it off, one record at a time.
 */
describe("Central's event consumer on the in-process bus", () => {
  for (const batching of [true, false]) {
    it(`applies a backlog ${batching ? "in bounded batches" : "one record at a time"} (CENTRAL_EVENT_BATCHING=${batching})`, async () => {
      const h = await createCentralHarness({ CENTRAL_EVENT_BATCHING: String(batching), CENTRAL_BATCH_MAX_RECORDS: "20" });
      try {
        await h.provision("cp-b");
        const ts = new Date(h.clock.now()).toISOString();
        const records = Array.from({ length: 50 }, (_, i) => ({
          key: "cp-b",
          value: JSON.stringify({ kind: "up", cpId: "cp-b", type: "heartbeat", gatewayId: "gw", receivedAt: ts, payload: { id: `b-${i}`, ts } }),
        }));
        await h.bus.publish(h.central.ctx.topics.events, records); // a backlog before the consumer joins
        await h.central.start({ listen: false });
        const count = async () => (await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM processed_messages WHERE cp_id = 'cp-b'"))[0]!.n;
        await waitFor(async () => (await count()) >= 50, { timeoutMs: 15_000, what: "50 heartbeats applied" });
        const histogram = (await h.central.ctx.metrics.eventBatchRecords.get()).values;
        const batches = histogram.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
        const recordsInBatches = histogram.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
        if (batching) {
          expect(recordsInBatches).toBe(50);
          expect(batches).toBe(3); // 20 + 20 + 10
        } else {
          expect(batches).toBe(0);
        }
        expect(await count()).toBe(50);
      } finally {
        await h.close();
      }
    });
  }
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { applyBusRecord } from "../../central/events/apply-bus-record.ts";
import { pruneRound } from "../../central/retention/prune-round.ts";
import { startRetentionJob } from "../../central/retention/retention-job.ts";
import { insertChargePoint } from "../../central/lifecycle/index.ts";
import { enqueueCommand } from "../../central/store/commands.ts";
import { insertDriver } from "../../central/store/drivers.ts";
import { createCentralHarness, type CentralHarness } from "../support/central-harness.ts";
import { waitFor } from "../support/wait.ts";
import type { StoreFixture } from "./store.contract.ts";

const HOUR = 3_600_000;
const BASE = Date.parse("2026-06-01T12:00:00Z");

/** A charger's heartbeat as the gateway puts it on the events topic. */
export function heartbeatRecord(cpId: string, id: string, at: number): string {
  const ts = new Date(at).toISOString();
  return JSON.stringify({ kind: "up", cpId, type: "heartbeat", payload: { id, ts }, gatewayId: "gw-test", receivedAt: ts });
}

/** `n` message ids recorded at `at`, in bulk (what months of heartbeats leave behind). */
export async function seedProcessed(db: Db, prefix: string, n: number, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO processed_messages (cp_id, message_id, type, processed_at)
     SELECT 'cp-seed', $1 || i, 'heartbeat', $2 FROM generate_series(1, $3) i`,
    [prefix, at, n],
  );
}

export async function countRows(db: Db, table: "processed_messages" | "commands"): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
}

/**
 * Retention (issue 12 part 4) on any Store: the prune keeps exactly-once by message id inside
 * PROCESSED_RETENTION_HOURS, removes what is older, works in bounded batches, and deletes only
 * commands that are finished. Run on PGlite (tests/unit) and PostgreSQL (tests/int).
 */
export function retentionContract(name: string, fixture: () => StoreFixture): void {
  describe(`Retention contract: ${name}`, () => {
    let fx: StoreFixture;
    let db: Db;
    let h: CentralHarness;

    beforeAll(async () => {
      fx = fixture();
      db = await fx.open();
      h = await createCentralHarness({ PROCESSED_RETENTION_HOURS: "336", COMMAND_RETENTION_HOURS: "336" }, db);
    });
    afterAll(async () => {
      await h?.close();
      if (db) await fx.close(db);
    });
    beforeEach(async () => {
      await h.reset();
      h.clock.set(BASE);
      await insertChargePoint(db, "cp-r", "hash", new Date(BASE));
    });

    const apply = (id: string) => applyBusRecord(h.central.ctx, heartbeatRecord("cp-r", id, h.clock.now()));

    it("still drops a replay inside the window and prunes ids beyond it", async () => {
      expect((await apply("hb-old")).result).toBe("applied");
      h.clock.advance(200 * HOUR);
      expect((await apply("hb-mid")).result).toBe("applied");

      // 200 h on: both ids are inside the 336 h window, nothing goes, the replay is still dropped
      expect((await pruneRound(h.central.ctx)).processed_messages!.deleted).toBe(0);
      expect((await apply("hb-old")).result).toBe("duplicate");

      // 337 h after hb-old: it is beyond the window and goes; hb-mid (137 h old) stays and its
      // replay is still dropped
      h.clock.advance(137 * HOUR);
      const round = await pruneRound(h.central.ctx);
      expect(round.processed_messages!.deleted).toBe(1);
      const left = await db.query<{ message_id: string }>("SELECT message_id FROM processed_messages ORDER BY message_id");
      expect(left.map((r) => r.message_id)).toEqual(["hb-mid"]);
      expect((await apply("hb-mid")).result).toBe("duplicate");
      const pruned = (await h.central.ctx.metrics.rowsPruned.get()).values.find((v) => v.labels.table === "processed_messages");
      expect(pruned?.value).toBeGreaterThanOrEqual(1);
    });

    it("prunes in bounded batches: 2,500 old ids with a batch of 1,000 take 3 deletes", async () => {
      await seedProcessed(db, "old-", 2_500, new Date(BASE - 400 * HOUR));
      await seedProcessed(db, "new-", 10, new Date(BASE - 1 * HOUR));
      let pauses = 0;
      const round = await pruneRound(h.central.ctx, { batchSize: 1_000, pause: async () => void pauses++ });
      expect(round.processed_messages!.batches).toEqual([1_000, 1_000, 500]);
      expect(pauses).toBe(2); // between batches, not after the short last one
      expect(await countRows(db, "processed_messages")).toBe(10);
    });

    it("keeps everything when a retention is 0", async () => {
      await seedProcessed(db, "old-", 5, new Date(BASE - 10_000 * HOUR));
      const ctx = { ...h.central.ctx, config: { ...h.central.ctx.config, PROCESSED_RETENTION_HOURS: 0, COMMAND_RETENTION_HOURS: 0, STREAM_RETENTION_HOURS: 0 } };
      expect(await pruneRound(ctx)).toEqual({});
      expect(await countRows(db, "processed_messages")).toBe(5);
    });

    it("deletes only commands that are published and finished, never a live reservation's", async () => {
      const old = new Date(BASE - 400 * HOUR);
      const recent = new Date(BASE - 10 * HOUR);
      await insertDriver(db, "d-r", "R", old);
      for (const [id, status] of [["r-live", "charging"], ["r-done", "completed"]] as const) {
        await db.query(
          `INSERT INTO reservations (reservation_id, cp_id, driver_id, status, created_at, expires_at) VALUES ($1, 'cp-r', 'd-r', $2, $3, $3)`,
          [id, status, old],
        );
      }
      const cases: { name: string; reservation: string; published: Date | null; status: string; resultAt: Date | null; kept: boolean }[] = [
        { name: "unpublished, old", reservation: "r-x1", published: null, status: "pending", resultAt: null, kept: true },
        { name: "accepted long ago", reservation: "r-x2", published: old, status: "accepted", resultAt: old, kept: false },
        { name: "old, result inside the window", reservation: "r-x3", published: old, status: "rejected", resultAt: recent, kept: true },
        { name: "published long ago, never answered", reservation: "r-x4", published: old, status: "pending", resultAt: null, kept: false },
        { name: "published recently, not yet answered", reservation: "r-x5", published: recent, status: "pending", resultAt: null, kept: true },
        { name: "old, its reservation still charging", reservation: "r-live", published: old, status: "accepted", resultAt: old, kept: true },
        { name: "old, its reservation completed", reservation: "r-done", published: old, status: "accepted", resultAt: old, kept: false },
      ];
      const ids = new Map<string, string>();
      for (const c of cases) {
        const id = await enqueueCommand(db, "cp-r", "start", { reservationId: c.reservation }, old);
        ids.set(id, c.name);
        await db.query("UPDATE commands SET published_at = $2, status = $3, result_at = $4 WHERE command_id = $1", [id, c.published, c.status, c.resultAt]);
      }
      const round = await pruneRound(h.central.ctx);
      expect(round.commands!.deleted).toBe(cases.filter((c) => !c.kept).length);
      const left = (await db.query<{ command_id: string }>("SELECT command_id FROM commands")).map((r) => ids.get(r.command_id)).sort();
      expect(left).toEqual(cases.filter((c) => c.kept).map((c) => c.name).sort());
    });

    it("is started by Central's start", async () => {
      await seedProcessed(db, "old-", 20, new Date(BASE - 400 * HOUR));
      const started = await createCentralHarness({}, db);
      started.clock.set(BASE);
      try {
        await started.central.start({ listen: false });
        await waitFor(async () => (await countRows(db, "processed_messages")) === 0, { what: "Central's first prune round" });
      } finally {
        await started.close(); // stop() awaits the job's loop
      }
    });

    it("runs as a job and, stopped between batches, starts no new batch", async () => {
      await seedProcessed(db, "old-", 2_500, new Date(BASE - 400 * HOUR));
      let paused!: () => void;
      const reachedPause = new Promise<void>((r) => (paused = r));
      let resume!: () => void;
      const gate = new Promise<void>((r) => (resume = r));
      const job = startRetentionJob(h.central.ctx, { batchSize: 1_000, intervalMs: 60_000, pause: () => (paused(), gate) });
      await reachedPause; // the first batch has committed
      const stopping = job.stop();
      resume();
      await stopping;
      expect(await countRows(db, "processed_messages")).toBe(1_500);
      // and a new job takes up where it left off
      const again = startRetentionJob(h.central.ctx, { batchSize: 1_000, intervalMs: 60_000, pause: async () => {} });
      await waitFor(async () => (await countRows(db, "processed_messages")) === 0, { what: "the rest pruned" });
      await again.stop();
    });
  });
}

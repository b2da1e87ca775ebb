import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { applyBusRecord } from "../../central/events/apply-bus-record.ts";
import { PROCESSED_PRUNE_LOCK, pruneRound } from "../../central/retention/prune-round.ts";
import { startRetentionJob } from "../../central/retention/retention-job.ts";
import { insertChargePoint } from "../../central/lifecycle/index.ts";
import { pruneProcessedMessages } from "../../central/store/prune-processed-messages.ts";
import { countRows, heartbeatRecord, retentionContract, seedProcessed } from "../contract/retention.contract.ts";
import { createCentralHarness, type CentralHarness } from "../support/central-harness.ts";
import { openTestPostgres } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

const drops = new Map<Db, () => Promise<void>>();
retentionContract("PostgreSQL", () => ({
  async open() {
    const pg = await openTestPostgres("retention");
    drops.set(pg.db, pg.drop);
    return pg.db;
  },
  async close(db) {
    await drops.get(db)?.();
  },
}));

const HOUR = 3_600_000;

/** Resolves with `p`, or fails naming `what` if it has not settled by the deadline (a hang, not a slow run). */
function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms)));
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Only PostgreSQL has concurrent connections: these show the prune never locks the consumer out. */
describe("retention on PostgreSQL: pruning beside the consumer and other instances", () => {
  let pg: Awaited<ReturnType<typeof openTestPostgres>>;
  let h: CentralHarness;
  beforeAll(async () => {
    pg = await openTestPostgres("retention_conc");
    h = await createCentralHarness({}, pg.db);
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });
  beforeEach(async () => {
    await h.reset();
    await insertChargePoint(pg.db, "cp-c", "hash", new Date(h.clock.now()));
  });

  it("applies the consumer's events while a prune batch's transaction is open", async () => {
    await seedProcessed(pg.db, "old-", 2_500, new Date(h.clock.now() - 400 * HOUR));
    await applyBusRecord(h.central.ctx, heartbeatRecord("cp-c", "hb-before", h.clock.now()));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let deletedInBatch: number | undefined;
    let batchOpen = false;
    const batch = pg.db.transaction(async (tx) => {
      deletedInBatch = await pruneProcessedMessages(tx, new Date(h.clock.now() - 336 * HOUR), 1_000);
      batchOpen = true;
      await held; // the batch holds its row locks and has not committed
      batchOpen = false;
    });
    try {
      await waitFor(() => batchOpen, { what: "the prune batch to have deleted its rows" });
      // The consumer inserts a new id and drops a replay while the batch is still open.
      const fresh = await settlesWithin(applyBusRecord(h.central.ctx, heartbeatRecord("cp-c", "hb-during", h.clock.now())), 10_000, "a new event's apply");
      const replay = await settlesWithin(applyBusRecord(h.central.ctx, heartbeatRecord("cp-c", "hb-before", h.clock.now())), 10_000, "a replay's apply");
      expect(batchOpen).toBe(true);
      expect(fresh.result).toBe("applied");
      expect(replay.result).toBe("duplicate");
    } finally {
      release();
      await batch;
    }
    expect(deletedInBatch).toBe(1_000);
    expect(await countRows(pg.db, "processed_messages")).toBe(1_500 + 2);
  });

  it("leaves the table to another instance that holds its prune lock, without queueing behind it", async () => {
    await seedProcessed(pg.db, "old-", 50, new Date(h.clock.now() - 400 * HOUR));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked = false;
    const other = pg.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [PROCESSED_PRUNE_LOCK]);
      locked = true;
      await held;
    });
    try {
      await waitFor(() => locked, { what: "the other instance's prune lock" });
      const round = await settlesWithin(pruneRound(h.central.ctx), 10_000, "a prune round beside a locked one");
      expect(round.processed_messages).toEqual({ batches: [], deleted: 0, skipped: true });
      expect(await countRows(pg.db, "processed_messages")).toBe(50);
    } finally {
      release();
      await other;
    }
    expect((await pruneRound(h.central.ctx)).processed_messages!.deleted).toBe(50);
  });

  it("lets the batch in flight commit when stopped, and starts no other", async () => {
    await seedProcessed(pg.db, "old-", 2_500, new Date(h.clock.now() - 400 * HOUR));
    // A lock that conflicts with DELETE holds the job's first batch in flight.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    const blocker = pg.db.transaction(async (tx) => {
      await tx.query("LOCK TABLE processed_messages IN SHARE MODE");
      locked();
      await held;
    });
    // The job starts only once the lock is held: started earlier, its first batch could commit
    // before the lock and the one held in flight would be its second.
    await lockTaken;
    const job = startRetentionJob(h.central.ctx, { batchSize: 1_000, intervalMs: 60_000, pause: async () => {} });
    let stopping: Promise<void> | undefined;
    try {
      await waitFor(
        async () =>
          (await pg.db.query(
            `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
              WHERE c.relname = 'processed_messages' AND c.relnamespace = current_schema()::regnamespace AND NOT l.granted`,
          )).length > 0,
        { what: "the prune batch waiting on the table lock" },
      );
      stopping = job.stop();
    } finally {
      release();
      await blocker;
    }
    await stopping;
    expect(await countRows(pg.db, "processed_messages")).toBe(1_500);
  });
});

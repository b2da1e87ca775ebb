import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { migrate } from "../../central/db/migrations.ts";
import { openPostgresDb } from "../../central/db/postgres-db.ts";
import { enqueueCommand, leaseUnpublished } from "../../central/store/commands.ts";
import { storeContract } from "../contract/store.contract.ts";
import { openTestPostgres, TEST_DATABASE_URL } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

const drops = new Map<Db, () => Promise<void>>();

for (const prepare of [false, true]) {
  storeContract(prepare ? "PostgreSQL with prepared statements" : "PostgreSQL", () => ({
    async open() {
      const pg = await openTestPostgres("store", { prepare });
      drops.set(pg.db, pg.drop);
      return pg.db;
    },
    async close(db) {
      await drops.get(db)?.();
    },
  }));
}

/** Only PostgreSQL has concurrent connections: PGlite runs one transaction at a time. */
describe("command outbox on PostgreSQL: two publishers at once", () => {
  let pg: Awaited<ReturnType<typeof openTestPostgres>>;
  beforeAll(async () => {
    pg = await openTestPostgres("outbox");
    await migrate(pg.db);
  });
  afterAll(async () => pg?.drop());

  it("keeps a charger's later command back while another publisher's lease is still uncommitted", async () => {
    const now = new Date();
    await enqueueCommand(pg.db, "cp-x", "reserve", { reservationId: "x-0", expiresAt: now.toISOString() }, now);
    await enqueueCommand(pg.db, "cp-x", "cancel_reservation", { reservationId: "x-0" }, now);
    await enqueueCommand(pg.db, "cp-y", "stop", { reservationId: "y-0" }, now);

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let leasedByA: string[] | undefined;
    const a = pg.db.transaction(async (tx) => {
      leasedByA = (await leaseUnpublished(tx, now, 30_000, 1, "pub-a")).map((c) => c.type);
      await held; // publisher A has locked the reserve and not yet committed its lease
    });
    await waitFor(() => leasedByA !== undefined, { timeoutMs: 10_000, what: "publisher A's lease" });
    const leasedByB = await leaseUnpublished(pg.db, now, 30_000, 10, "pub-b");
    release();
    await a;
    expect(leasedByA).toEqual(["reserve"]);
    // B skips the locked reserve and must not publish the cancel ahead of it; cp-y is unaffected
    expect(leasedByB.map((c) => `${c.cp_id}:${c.type}`)).toEqual(["cp-y:stop"]);
  });
});

describe("PostgreSQL pool size (DATABASE_POOL_SIZE)", () => {
  it("never holds more connections than the pool allows, however many queries wait", async () => {
    const marker = `pool_probe_${Date.now().toString(36)}`;
    const small = await openPostgresDb({ url: TEST_DATABASE_URL, maxConnections: 2 });
    const watcher = await openTestPostgres("pool");
    try {
      let most = 0;
      const queries = Promise.all(Array.from({ length: 6 }, () => small.query(`SELECT pg_sleep(0.3) AS ${marker}`)));
      const watching = (async () => {
        for (let i = 0; i < 12; i++) {
          const rows = await watcher.db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()",
            [`%AS ${marker}`],
          );
          most = Math.max(most, rows[0]!.n);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await Promise.all([queries, watching]);
      expect(most).toBeGreaterThan(0); // the watcher did see the probes
      expect(most).toBeLessThanOrEqual(2);
    } finally {
      await small.close();
      await watcher.drop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../central/db/db.ts";
import { migrate } from "../../central/db/migrations.ts";
import { enqueueCommand, leaseUnpublished } from "../../central/store/commands.ts";
import { storeContract } from "../contract/store.contract.ts";
import { openTestPostgres } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

const drops = new Map<Db, () => Promise<void>>();

storeContract("PostgreSQL", () => ({
  async open() {
    const pg = await openTestPostgres("store");
    drops.set(pg.db, pg.drop);
    return pg.db;
  },
  async close(db) {
    await drops.get(db)?.();
  },
}));

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
      leasedByA = (await leaseUnpublished(tx, now, 30_000, 1)).map((c) => c.type);
      await held; // publisher A has locked the reserve and not yet committed its lease
    });
    await waitFor(() => leasedByA !== undefined, { timeoutMs: 10_000, what: "publisher A's lease" });
    const leasedByB = await leaseUnpublished(pg.db, now, 30_000, 10);
    release();
    await a;
    expect(leasedByA).toEqual(["reserve"]);
    // B skips the locked reserve and must not publish the cancel ahead of it; cp-y is unaffected
    expect(leasedByB.map((c) => `${c.cp_id}:${c.type}`)).toEqual(["cp-y:stop"]);
  });
});

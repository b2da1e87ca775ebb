import type { Db } from "../../central/db/db.ts";
import { eventBatchContract } from "../contract/event-batch.contract.ts";
import { openTestPostgres } from "../support/postgres.ts";

const drops = new Map<Db, () => Promise<void>>();

for (const prepare of [false, true]) {
  eventBatchContract(
    prepare ? "PostgreSQL with prepared statements" : "PostgreSQL",
    () => ({
      async open() {
        const pg = await openTestPostgres("batch", { prepare });
        drops.set(pg.db, pg.drop);
        return pg.db;
      },
      async close(db) {
        await drops.get(db)?.();
      },
    }),
    60,
  );
}

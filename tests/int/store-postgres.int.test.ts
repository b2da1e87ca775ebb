import type { Db } from "../../central/db/db.ts";
import { storeContract } from "../contract/store.contract.ts";
import { openTestPostgres } from "../support/postgres.ts";

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

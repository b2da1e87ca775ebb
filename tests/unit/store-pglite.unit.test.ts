import { openPgliteDb } from "../../central/db/pglite-db.ts";
import { storeContract } from "../contract/store.contract.ts";

storeContract("PGlite", () => ({
  open: () => openPgliteDb(),
  close: (db) => db.close(),
}));

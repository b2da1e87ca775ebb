import { openPgliteDb } from "../../central/db/pglite-db.ts";
import { retentionContract } from "../contract/retention.contract.ts";

retentionContract("PGlite", () => ({
  open: () => openPgliteDb(),
  close: (db) => db.close(),
}));

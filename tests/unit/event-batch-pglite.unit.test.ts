import { openPgliteDb } from "../../central/db/pglite-db.ts";
import { eventBatchContract } from "../contract/event-batch.contract.ts";

eventBatchContract("PGlite", () => ({ open: () => openPgliteDb(), close: (db) => db.close() }), 100);

import { join } from "node:path";
import type { Db } from "./db.ts";
import { migrate } from "./migrations.ts";
import { openPgliteDb } from "./pglite-db.ts";
import { openPostgresDb } from "./postgres-db.ts";

export interface OpenDbOptions {
  databaseUrl?: string;
  /** Where PGlite keeps its files; undefined keeps it in memory (tests). */
  dataDir?: string;
  /** PostgreSQL connections this process may open (PGlite has one). */
  poolSize?: number;
  /** PostgreSQL named prepared statements (see postgres-db.ts). */
  prepare?: boolean;
}

/** DATABASE_URL set: PostgreSQL. Unset: PGlite under DATA_DIR. Migrations run either way. */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  const db = options.databaseUrl
    ? await openPostgresDb({ url: options.databaseUrl, maxConnections: options.poolSize, prepare: options.prepare })
    : await openPgliteDb(options.dataDir ? join(options.dataDir, "central-db") : undefined);
  await migrate(db);
  return db;
}

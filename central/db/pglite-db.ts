import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import type { Db, Row, Sql } from "./db.ts";

/**
 * The embedded database: PGlite in DATA_DIR (or in memory when no directory is given).
 * PGlite has one connection, so its transactions are serialised; that is the embedded
 * trade-off, and the PostgreSQL adapter is the answer when it is not enough.
 */
export async function openPgliteDb(dataDir?: string): Promise<Db> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir);
  const wrap = (q: Pick<PGlite, "query">): Sql => ({
    async query<T extends Row = Row>(text: string, params: unknown[] = []): Promise<T[]> {
      const result = await q.query<T>(text, params);
      return result.rows;
    },
  });
  const root = wrap(pg);
  return {
    kind: "pglite",
    query: root.query,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    listen: async (channel, onNotify) => {
      const unlisten = await pg.listen(channel, () => onNotify());
      return async () => unlisten();
    },
    close: () => pg.close(),
  };
}

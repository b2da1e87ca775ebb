import postgres from "postgres";
import type { Db, Row, Sql } from "./db.ts";

export interface PostgresDbOptions {
  url: string;
  maxConnections?: number;
}

/** Production database through postgres.js; a pool, so transactions really run concurrently. */
export async function openPostgresDb(options: PostgresDbOptions): Promise<Db> {
  const sql = postgres(options.url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    // Keep int8 and numeric out of the schema; dates come back as Date like PGlite's.
    transform: { undefined: null },
  });
  const wrap = (q: postgres.Sql | postgres.TransactionSql): Sql => ({
    async query<T extends Row = Row>(text: string, params: unknown[] = []): Promise<T[]> {
      const rows = await q.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return rows as unknown as T[];
    },
  });
  await sql`select 1`; // fail fast on a wrong DATABASE_URL
  const root = wrap(sql);
  return {
    kind: "postgres",
    query: root.query,
    transaction: <T>(fn: (tx: Sql) => Promise<T>) => sql.begin((tx) => fn(wrap(tx))) as Promise<T>,
    close: () => sql.end({ timeout: 5 }),
  };
}

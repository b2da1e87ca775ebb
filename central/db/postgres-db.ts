import postgres from "postgres";
import type { Db, Row, Sql } from "./db.ts";

export interface PostgresDbOptions {
  url: string;
  maxConnections?: number;
  /** A schema to work in (created if missing); tests use one per run so they never collide. */
  schema?: string;
  /**
   * Named prepared statements: each connection parses a statement once and reuses it, which saves
   * postgres.js' describe round trip per query (+14-23 % reservations/s in bench/central). Off by
   * default, because PgBouncer in transaction mode (before 1.21) cannot route them.
   */
  prepare?: boolean;
}

/** Production database through postgres.js; a pool, so transactions really run concurrently. */
export async function openPostgresDb(options: PostgresDbOptions): Promise<Db> {
  if (options.schema) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error(`Invalid schema name '${options.schema}'`);
    const admin = postgres(options.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    await admin.end();
  }
  const sql = postgres(options.url, {
    ...(options.schema ? { connection: { search_path: options.schema } } : {}),
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    // Keep int8 and numeric out of the schema; dates come back as Date like PGlite's.
    transform: { undefined: null },
  });
  const wrap = (q: postgres.Sql | postgres.TransactionSql): Sql => ({
    async query<T extends Row = Row>(text: string, params: unknown[] = []): Promise<T[]> {
      const rows = await q.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: options.prepare ?? false });
      return rows as unknown as T[];
    },
  });
  await sql`select 1`; // fail fast on a wrong DATABASE_URL
  const root = wrap(sql);
  return {
    kind: "postgres",
    query: root.query,
    transaction: <T>(fn: (tx: Sql) => Promise<T>) => sql.begin((tx) => fn(wrap(tx))) as Promise<T>,
    // postgres.js keeps LISTEN on a dedicated connection of its own and re-listens after a reconnect.
    listen: async (channel, onNotify) => {
      const { unlisten } = await sql.listen(channel, () => onNotify());
      return unlisten;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

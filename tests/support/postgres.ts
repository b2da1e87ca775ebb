import postgres from "postgres";
import { openPostgresDb } from "../../central/db/postgres-db.ts";
import type { Db } from "../../central/db/db.ts";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * A connection to the real PostgreSQL in a fresh schema. A missing server is a failure with a
 * clear message, never a skip.
 */
export async function openTestPostgres(label: string, options: { prepare?: boolean } = {}): Promise<{ db: Db; schema: string; url: string; drop(): Promise<void> }> {
  const schema = `cb_${label}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`.toLowerCase();
  let db: Db;
  try {
    db = await openPostgresDb({ url: TEST_DATABASE_URL, schema, maxConnections: 20, prepare: options.prepare });
  } catch (error) {
    throw new Error(
      `PostgreSQL is required for this test and is not reachable at ${TEST_DATABASE_URL} (${String(error)}). ` +
        "Start it, set TEST_DATABASE_URL, or run `npm run test:embedded` for the part that needs no services.",
    );
  }
  return {
    db,
    schema,
    url: TEST_DATABASE_URL,
    async drop() {
      await db.close();
      const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

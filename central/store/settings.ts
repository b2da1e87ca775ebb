import type { Sql } from "../db/db.ts";

/** First writer wins, so every instance sharing the database agrees on a generated value. */
export async function getOrInitSetting(sql: Sql, key: string, init: () => string): Promise<string> {
  await sql.query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, init()]);
  const rows = await sql.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
  return rows[0]!.value;
}

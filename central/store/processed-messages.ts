import type { Sql } from "../db/db.ts";

/**
 * Records a charger message id inside the transaction that applies it. Returns false for a
 * repeat, which the caller then ignores: delivery is at-least-once, application is exactly-once.
 */
export async function markProcessed(sql: Sql, cpId: string, messageId: string, type: string, now: Date): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO processed_messages (cp_id, message_id, type, processed_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [cpId, messageId, type, now],
  );
  return rows.length === 1;
}

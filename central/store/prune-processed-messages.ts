import type { Sql } from "../db/db.ts";

/**
 * Deletes up to `limit` message ids recorded before `cutoff`, oldest first, and returns how many.
 * One small statement for the caller's short transaction: the sub-select walks
 * processed_messages_by_time (migration 7), and SKIP LOCKED passes over any row another
 * transaction holds, so the prune never waits for the event consumer. The consumer only inserts
 * new ids (processed_at = now, far inside the window), so the two never touch the same rows.
 */
export async function pruneProcessedMessages(sql: Sql, cutoff: Date, limit: number): Promise<number> {
  const rows = await sql.query(
    `DELETE FROM processed_messages
      WHERE (cp_id, message_id) IN (
        SELECT cp_id, message_id FROM processed_messages
         WHERE processed_at < $1
         ORDER BY processed_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
      RETURNING 1 AS gone`,
    [cutoff, limit],
  );
  return rows.length;
}

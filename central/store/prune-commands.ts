import type { Sql } from "../db/db.ts";

/**
 * Deletes up to `limit` finished commands and returns how many. A command may go only when
 * - it was published (an unpublished one is the outbox's work still to do: never deleted), and
 * - its last event, the charger's result or, with none, its publication, is older than `cutoff`.
 *   A published command without a result that old never gets one: the gateway reports `expired`
 *   after COMMAND_TTL_SECONDS (minutes), far inside any window we allow; a result that still
 *   arrives later finds no row and changes nothing (on-command-result.ts), and
 * - no live (`reserved`/`charging`) reservation is the one it names. Nothing in the schema
 *   references commands (no foreign key, migrations 1-7); the payload's reservationId is the only
 *   link, and a live reservation's commands are kept for as long as it lives.
 * Oldest first, through commands_finished (migration 7); SKIP LOCKED passes over rows a consumer
 * transaction is recording a result on, so the prune never waits for it.
 */
export async function pruneCommands(sql: Sql, cutoff: Date, limit: number): Promise<number> {
  const rows = await sql.query(
    `DELETE FROM commands
      WHERE command_id IN (
        SELECT c.command_id FROM commands c
         WHERE c.published_at IS NOT NULL
           AND coalesce(c.result_at, c.published_at) < $1
           AND NOT EXISTS (
             SELECT 1 FROM reservations r
              WHERE r.reservation_id = c.payload->>'reservationId' AND r.status IN ('reserved', 'charging'))
         ORDER BY coalesce(c.result_at, c.published_at)
         LIMIT $2
         FOR UPDATE OF c SKIP LOCKED)
      RETURNING 1 AS gone`,
    [cutoff, limit],
  );
  return rows.length;
}

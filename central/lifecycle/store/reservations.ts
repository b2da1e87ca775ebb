import type { Sql } from "../../db/db.ts";
import type { ReservationRow, ReservationStatus } from "../../store/reservations.ts";

/**
 * Every write to `reservations` (the insert is reserve-in-one.ts, one statement with its claim).
 * Statements take arrays so that a batch of events is one statement.
 */
/** The live reservation of a charge point, locked: the lifecycle decides on it and then writes. */
export async function lockLiveReservationForCp(sql: Sql, cpId: string): Promise<ReservationRow | null> {
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `SELECT * FROM reservations WHERE cp_id = $1 AND status IN ('reserved', 'charging') FOR UPDATE`,
    [cpId],
  );
  return rows[0] ?? null;
}

/** Due reservations, locked; SKIP LOCKED gives each to exactly one of several sweeping instances. */
export async function lockDueReservations(sql: Sql, now: Date, limit: number): Promise<string[]> {
  const rows = await sql.query<{ reservation_id: string }>(
    `SELECT reservation_id FROM reservations
      WHERE status = 'reserved' AND expires_at <= $1
      ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return rows.map((r) => r.reservation_id);
}

/**
 * Moves reservations only while they are still in `from`: the conditional update is what makes
 * concurrent writers (API, event consumer, expiry sweeper, other instances) safe. The one
 * statement behind every reservation transition.
 */
export async function transitionReservations(
  sql: Sql,
  ids: string[],
  from: readonly ReservationStatus[],
  to: ReservationStatus,
  fields: { at: Date; reason?: string | undefined },
): Promise<ReservationRow[]> {
  if (ids.length === 0) return [];
  const ending = to === "completed" || to === "expired" || to === "cancelled";
  return sql.query<ReservationRow & Record<string, unknown>>(
    `UPDATE reservations
        SET status = $3,
            started_at = CASE WHEN $3 = 'charging' THEN $4 ELSE started_at END,
            ended_at = CASE WHEN $5 THEN $4 ELSE ended_at END,
            end_reason = COALESCE($6, end_reason)
      WHERE reservation_id = ANY($1::text[]) AND status = ANY($2::text[])
      RETURNING *`,
    [ids, [...from], to, fields.at, ending, fields.reason ?? null],
  );
}

import type { Sql } from "../db/db.ts";

export type ReservationStatus = "reserved" | "charging" | "completed" | "expired" | "cancelled";

export interface ReservationRow {
  reservation_id: string;
  cp_id: string;
  driver_id: string;
  status: ReservationStatus;
  created_at: Date;
  expires_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
}

export async function insertReservation(
  sql: Sql,
  r: Pick<ReservationRow, "reservation_id" | "cp_id" | "driver_id" | "created_at" | "expires_at">,
): Promise<ReservationRow> {
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `INSERT INTO reservations (reservation_id, cp_id, driver_id, status, created_at, expires_at)
     VALUES ($1, $2, $3, 'reserved', $4, $5) RETURNING *`,
    [r.reservation_id, r.cp_id, r.driver_id, r.created_at, r.expires_at],
  );
  return rows[0]!;
}

export async function getReservation(sql: Sql, id: string, forUpdate = false): Promise<ReservationRow | null> {
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `SELECT * FROM reservations WHERE reservation_id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] ?? null;
}

export async function getLiveReservationForCp(sql: Sql, cpId: string): Promise<ReservationRow | null> {
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `SELECT * FROM reservations WHERE cp_id = $1 AND status IN ('reserved', 'charging') FOR UPDATE`,
    [cpId],
  );
  return rows[0] ?? null;
}

/**
 * Moves a reservation only if it is still in `from`: the conditional update is what makes
 * concurrent writers (API, event consumer, expiry sweeper, other instances) safe.
 */
export async function transitionReservation(
  sql: Sql,
  id: string,
  from: ReservationStatus[],
  to: ReservationStatus,
  fields: { at: Date; reason?: string },
): Promise<ReservationRow | null> {
  const ending = to === "completed" || to === "expired" || to === "cancelled";
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `UPDATE reservations
        SET status = $3,
            started_at = CASE WHEN $3 = 'charging' THEN $4 ELSE started_at END,
            ended_at = CASE WHEN $5 THEN $4 ELSE ended_at END,
            end_reason = COALESCE($6, end_reason)
      WHERE reservation_id = $1 AND status = ANY($2::text[])
      RETURNING *`,
    [id, from, to, fields.at, ending, fields.reason ?? null],
  );
  return rows[0] ?? null;
}

/** Claims due reservations; SKIP LOCKED lets several Central instances sweep without contention. */
export async function claimDueReservations(sql: Sql, now: Date, limit: number): Promise<ReservationRow[]> {
  return sql.query<ReservationRow & Record<string, unknown>>(
    `UPDATE reservations SET status = 'expired', ended_at = $1, end_reason = 'not_started_in_time'
      WHERE reservation_id IN (
        SELECT reservation_id FROM reservations
         WHERE status = 'reserved' AND expires_at <= $1
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    [now, limit],
  );
}

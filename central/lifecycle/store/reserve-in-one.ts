import type { Sql } from "../../db/db.ts";
import { commandPayload } from "../../store/commands.ts";
import type { ReservationRow } from "../../store/reservations.ts";

export interface ReserveRow {
  reservationId: string;
  commandId: string;
  driverId: string;
  /** A given charge point, or any reservable one (SKIP LOCKED past those others hold). */
  cpId: string | undefined;
  now: Date;
  expiresAt: Date;
}

const RESERVABLE = "status = 'available' AND online AND secret_hash IS NOT NULL";

/**
 * TRANSITIONS.reserve as ONE statement, so one round trip and one commit with no BEGIN/COMMIT
 * around it: the conditional UPDATE claims the charge point (its row lock and status re-check
 * make exactly one of N concurrent requests win), the reservation row and the `reserve` command
 * are inserted from what it returned. A statement is atomic, so it is all three or none; the
 * partial unique index on live reservations still backs the rule up (a 23505 is a lost race).
 * Null when no charge point could be claimed.
 */
export async function reserveInOne(sql: Sql, r: ReserveRow): Promise<ReservationRow | null> {
  const claim = r.cpId
    ? `UPDATE charge_points SET status = 'reserved' WHERE cp_id = $1 AND ${RESERVABLE} RETURNING cp_id`
    : `UPDATE charge_points SET status = 'reserved' WHERE ${RESERVABLE} AND cp_id = (
         SELECT cp_id FROM charge_points WHERE ${RESERVABLE} AND $1::text IS NULL ORDER BY cp_id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING cp_id`;
  const payload = commandPayload<"reserve">(r.commandId, r.now, { reservationId: r.reservationId, expiresAt: r.expiresAt.toISOString() });
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `WITH claimed AS (${claim}),
     reservation AS (
       INSERT INTO reservations (reservation_id, cp_id, driver_id, status, created_at, expires_at)
       SELECT $2, cp_id, $3, 'reserved', $4, $5 FROM claimed RETURNING *),
     command AS (
       INSERT INTO commands (command_id, cp_id, type, payload, created_at)
       SELECT $6, cp_id, 'reserve', $7::text::jsonb, $4 FROM reservation)
     SELECT * FROM reservation`,
    [r.cpId ?? null, r.reservationId, r.driverId, r.now, r.expiresAt, r.commandId, payload],
  );
  return rows[0] ?? null;
}

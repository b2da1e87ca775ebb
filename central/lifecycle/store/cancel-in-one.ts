import type { Sql } from "../../db/db.ts";
import type { ReservationRow } from "../../store/reservations.ts";
import { storedFrom, TRANSITIONS } from "../transitions.ts";

export interface CancelByDriverRow {
  reservationId: string;
  driverId: string;
  commandId: string;
  /** The command's payload as stored (commandPayload). */
  payload: string;
  now: Date;
}

/**
 * TRANSITIONS.cancelByDriver as ONE statement (one round trip, one commit): the reservation moves
 * only if it is the driver's and still in the row's `from`, the charge point is freed only if it
 * is still in the row's charge-point `from` (a fault that came in meanwhile wins), and the row's
 * command is queued, all from the values of the table. Null if nothing moved; the caller then
 * reads why (not the driver's, or no longer reserved).
 */
export async function cancelByDriverInOne(sql: Sql, c: CancelByDriverRow): Promise<ReservationRow | null> {
  const rule = TRANSITIONS.cancelByDriver;
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `WITH moved AS (
       UPDATE reservations SET status = $3, ended_at = $4, end_reason = $5
        WHERE reservation_id = $1 AND driver_id = $2 AND status = ANY($6::text[])
        RETURNING *),
     freed AS (
       UPDATE charge_points SET status = $7
        WHERE cp_id IN (SELECT cp_id FROM moved) AND status = ANY($8::text[])
        RETURNING cp_id),
     command AS (
       INSERT INTO commands (command_id, cp_id, type, payload, created_at)
       SELECT $9, cp_id, $10, $11::text::jsonb, $4 FROM moved)
     SELECT * FROM moved`,
    [
      c.reservationId,
      c.driverId,
      rule.reservation.to,
      c.now,
      rule.endReason,
      storedFrom("cancelByDriver"),
      rule.chargePoint.to,
      [...rule.chargePoint.from],
      c.commandId,
      rule.command,
      c.payload,
    ],
  );
  return rows[0] ?? null;
}

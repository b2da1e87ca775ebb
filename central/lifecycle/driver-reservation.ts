import { AppError } from "../../platform/errors.ts";
import type { Sql } from "../db/db.ts";
import { getReservation, type ReservationRow } from "../store/reservations.ts";

/** A driver sees only their own reservations; anyone else's is reported as not found. */
export async function getDriverReservation(
  sql: Sql,
  driverId: string,
  reservationId: string,
  forUpdate = false,
): Promise<ReservationRow> {
  const row = await getReservation(sql, reservationId, forUpdate);
  if (!row || row.driver_id !== driverId) {
    throw new AppError("not_found", `Reservation '${reservationId}' does not exist`);
  }
  return row;
}

import type { CentralContext } from "../context.ts";
import type { Sql } from "../db/db.ts";
import { enqueueCommand } from "../store/commands.ts";
import { getLiveReservationForCp, transitionReservation } from "../store/reservations.ts";

/**
 * A faulted or unavailable charge point cannot be reserved. A reservation that had not started is
 * cancelled with a reason its driver can see; a session in progress is left to the charger's
 * own `charging_stopped`, which closes it with the energy actually delivered.
 */
export async function takeOutOfService(
  tx: Sql,
  ctx: CentralContext,
  cpId: string,
  status: "faulted" | "unavailable",
  now: Date,
): Promise<void> {
  const live = await getLiveReservationForCp(tx, cpId);
  if (live?.status === "reserved") {
    await transitionReservation(tx, live.reservation_id, ["reserved"], "cancelled", {
      at: now,
      reason: `charge_point_${status}`,
    });
    await enqueueCommand(tx, cpId, "cancel_reservation", { reservationId: live.reservation_id }, now);
    ctx.log.warn({ cpId, reservationId: live.reservation_id }, "Reservation cancelled: charge point out of service");
  }
  await tx.query("UPDATE charge_points SET status = $2 WHERE cp_id = $1", [cpId, status]);
}

/** Back in service: `charging` if a session is still live there, else `available`. */
export async function returnToService(tx: Sql, cpId: string, from: string[]): Promise<void> {
  const live = await getLiveReservationForCp(tx, cpId);
  const next = live?.status === "charging" ? "charging" : "available";
  await tx.query(
    `UPDATE charge_points SET status = $2, fault_code = NULL, fault_message = NULL
      WHERE cp_id = $1 AND status = ANY($3::text[])`,
    [cpId, next, from],
  );
}

import { AppError } from "../../platform/errors.ts";
import type { CentralContext } from "../context.ts";
import { enqueueCommand } from "../store/commands.ts";
import { transitionReservation, type ReservationRow } from "../store/reservations.ts";
import { getDriverReservation } from "./driver-reservation.ts";
import { releaseChargePoint } from "./release-charge-point.ts";
import { nowDate } from "./time.ts";

/** A driver cancels a reservation that has not started; the charge point is freed at once. */
export async function cancelReservation(
  ctx: CentralContext,
  driverId: string,
  reservationId: string,
): Promise<ReservationRow> {
  const now = nowDate(ctx);
  const row = await ctx.db.transaction(async (tx) => {
    const current = await getDriverReservation(tx, driverId, reservationId, true);
    const cancelled = await transitionReservation(tx, reservationId, ["reserved"], "cancelled", {
      at: now,
      reason: "cancelled_by_driver",
    });
    if (!cancelled) {
      throw new AppError("invalid_state", `Reservation is ${current.status}; only a reserved one can be cancelled`, {
        status: current.status,
      });
    }
    await releaseChargePoint(tx, cancelled.cp_id, "reserved");
    await enqueueCommand(tx, cancelled.cp_id, "cancel_reservation", { reservationId }, now);
    return cancelled;
  });
  ctx.notifyOutbox();
  return row;
}

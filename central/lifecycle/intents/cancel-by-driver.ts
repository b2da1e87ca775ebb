import { AppError } from "../../../platform/errors.ts";
import type { ReservationRow } from "../../store/reservations.ts";
import { nowDate, type LifecycleRunner } from "../deps.ts";
import { getDriverReservation } from "../driver-reservation.ts";
import { cancel } from "./cancel.ts";

/** TRANSITIONS.cancelByDriver: a reservation that has not started; the charge point is freed at once. */
export async function cancelByDriver(deps: LifecycleRunner, driverId: string, reservationId: string): Promise<ReservationRow> {
  const now = nowDate(deps);
  const row = await deps.db.transaction(async (tx) => {
    const current = await getDriverReservation(tx, driverId, reservationId, true);
    const cancelled = await cancel(tx, "cancelByDriver", reservationId, now);
    if (!cancelled) {
      throw new AppError("invalid_state", `Reservation is ${current.status}; only a reserved one can be cancelled`, {
        status: current.status,
      });
    }
    return cancelled;
  });
  deps.notifyOutbox();
  return row;
}

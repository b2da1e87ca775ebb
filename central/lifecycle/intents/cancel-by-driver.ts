import { AppError } from "../../../platform/errors.ts";
import { newId } from "../../../protocol/index.ts";
import { commandPayload } from "../../store/commands.ts";
import type { ReservationRow } from "../../store/reservations.ts";
import { nowDate, type LifecycleRunner } from "../deps.ts";
import { getDriverReservation } from "../driver-reservation.ts";
import { cancelByDriverInOne } from "../store/cancel-in-one.ts";

/**
 * TRANSITIONS.cancelByDriver: a reservation that has not started; the charge point is freed at
 * once. One statement on the path that succeeds (store/cancel-in-one.ts); only a refusal reads
 * the reservation again, to say why.
 */
export async function cancelByDriver(deps: LifecycleRunner, driverId: string, reservationId: string): Promise<ReservationRow> {
  const now = nowDate(deps);
  const commandId = newId("cmd");
  const payload = commandPayload<"cancel_reservation">(commandId, now, { reservationId });
  const row = await cancelByDriverInOne(deps.db, { reservationId, driverId, commandId, payload, now });
  if (!row) {
    const current = await getDriverReservation(deps.db, driverId, reservationId);
    throw new AppError("invalid_state", `Reservation is ${current.status}; only a reserved one can be cancelled`, {
      status: current.status,
    });
  }
  deps.notifyOutbox();
  return row;
}

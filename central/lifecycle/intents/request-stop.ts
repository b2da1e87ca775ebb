import { AppError } from "../../../platform/errors.ts";
import { enqueueCommand } from "../../store/commands.ts";
import { nowDate, type LifecycleRunner } from "../deps.ts";
import { getDriverReservation } from "../driver-reservation.ts";
import { storedFrom, TRANSITIONS } from "../transitions.ts";

/** TRANSITIONS.requestStop: the session closes when the charger reports `charging_stopped`. */
export async function requestStop(deps: LifecycleRunner, driverId: string, reservationId: string): Promise<string> {
  const now = nowDate(deps);
  const commandId = await deps.db.transaction(async (tx) => {
    const r = await getDriverReservation(tx, driverId, reservationId, true);
    if (!storedFrom("requestStop").includes(r.status)) {
      throw new AppError("invalid_state", `Reservation is ${r.status}; only a charging one can stop`, { status: r.status });
    }
    return enqueueCommand(tx, r.cp_id, TRANSITIONS.requestStop.command, { reservationId }, now);
  });
  deps.notifyOutbox();
  return commandId;
}

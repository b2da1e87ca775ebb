import { AppError } from "../../../platform/errors.ts";
import { enqueueCommand } from "../../store/commands.ts";
import { nowDate, type LifecycleRunner } from "../deps.ts";
import { getDriverReservation } from "../driver-reservation.ts";
import { TRANSITIONS } from "../transitions.ts";

/**
 * TRANSITIONS.requestStart: asks the charger to start. The reservation moves to `charging` only
 * when the charger reports `charging_started` (TRANSITIONS.started); until then the expiry still
 * applies, so a lost start cannot strand it.
 */
export async function requestStart(deps: LifecycleRunner, driverId: string, reservationId: string): Promise<string> {
  const now = nowDate(deps);
  const commandId = await deps.db.transaction(async (tx) => {
    const r = await getDriverReservation(tx, driverId, reservationId, true);
    const live = r.status === "reserved" && r.expires_at.getTime() > now.getTime();
    if (!live) {
      const status = r.status === "reserved" ? "expired" : r.status;
      throw new AppError("invalid_state", `Reservation is ${status}; only a live reserved one can start`, { status });
    }
    return enqueueCommand(tx, r.cp_id, TRANSITIONS.requestStart.command, { reservationId }, now);
  });
  deps.notifyOutbox();
  return commandId;
}

import { AppError } from "../../platform/errors.ts";
import type { CentralContext } from "../context.ts";
import { enqueueCommand } from "../store/commands.ts";
import { getDriverReservation } from "./driver-reservation.ts";
import { nowDate } from "./time.ts";

/** Asks the charger to stop; the session closes when the charger reports `charging_stopped`. */
export async function requestStop(ctx: CentralContext, driverId: string, reservationId: string): Promise<string> {
  const now = nowDate(ctx);
  const commandId = await ctx.db.transaction(async (tx) => {
    const r = await getDriverReservation(tx, driverId, reservationId, true);
    if (r.status !== "charging") {
      throw new AppError("invalid_state", `Reservation is ${r.status}; only a charging one can stop`, {
        status: r.status,
      });
    }
    return enqueueCommand(tx, r.cp_id, "stop", { reservationId }, now);
  });
  ctx.notifyOutbox();
  return commandId;
}

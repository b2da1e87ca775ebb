import { AppError } from "../../platform/errors.ts";
import type { CentralContext } from "../context.ts";
import { enqueueCommand } from "../store/commands.ts";
import { getDriverReservation } from "./driver-reservation.ts";
import { nowDate } from "./time.ts";

/**
 * Asks the charger to start. The reservation moves to `charging` only when the charger reports
 * `charging_started`; until then the expiry still applies, so a lost start cannot strand it.
 */
export async function requestStart(ctx: CentralContext, driverId: string, reservationId: string): Promise<string> {
  const now = nowDate(ctx);
  const commandId = await ctx.db.transaction(async (tx) => {
    const r = await getDriverReservation(tx, driverId, reservationId, true);
    if (r.status !== "reserved" || r.expires_at.getTime() <= now.getTime()) {
      const status = r.status === "reserved" ? "expired" : r.status;
      throw new AppError("invalid_state", `Reservation is ${status}; only a live reserved one can start`, { status });
    }
    return enqueueCommand(tx, r.cp_id, "start", { reservationId }, now);
  });
  ctx.notifyOutbox();
  return commandId;
}

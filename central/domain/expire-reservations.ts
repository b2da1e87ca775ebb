import type { CentralContext } from "../context.ts";
import { enqueueCommand } from "../store/commands.ts";
import { claimDueReservations } from "../store/reservations.ts";
import { releaseChargePoint } from "./release-charge-point.ts";
import { nowDate } from "./time.ts";

/**
 * Rolls back reservations not started by their expiry: reservation `expired`, charge point
 * `available`, `cancel_reservation` to the charger, all in one transaction. The expiry lives in
 * the database, so a restarted or different instance finishes what another began, and
 * SKIP LOCKED gives each due reservation to exactly one instance.
 */
export async function expireDueReservations(ctx: CentralContext, batch = 100): Promise<number> {
  const now = nowDate(ctx);
  const expired = await ctx.db.transaction(async (tx) => {
    const due = await claimDueReservations(tx, now, batch);
    for (const r of due) {
      await releaseChargePoint(tx, r.cp_id, "reserved");
      await enqueueCommand(tx, r.cp_id, "cancel_reservation", { reservationId: r.reservation_id }, now);
    }
    return due;
  });
  if (expired.length > 0) {
    ctx.metrics.expired.inc(expired.length);
    for (const r of expired) {
      ctx.log.info({ reservationId: r.reservation_id, cpId: r.cp_id, expiresAt: r.expires_at }, "Reservation expired and rolled back");
    }
    ctx.notifyOutbox();
  }
  return expired.length;
}

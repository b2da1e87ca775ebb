import { nowDate, type LifecycleRunner } from "../deps.ts";
import { applyTransition } from "../apply-transition.ts";
import { lockDueReservations } from "../store/reservations.ts";

/**
 * TRANSITIONS.expire: rolls back reservations not started by their expiry (reservation `expired`,
 * charge point `available`, `cancel_reservation` to the charger) in one transaction. The expiry
 * lives in the database, so a restarted or different instance finishes what another began, and
 * SKIP LOCKED gives each due reservation to exactly one instance.
 */
export async function expireDue(deps: LifecycleRunner, batch = 100): Promise<number> {
  const now = nowDate(deps);
  const expired = await deps.db.transaction(async (tx) => {
    const due = await lockDueReservations(tx, now, batch);
    return applyTransition(tx, "expire", { reservationIds: due, at: now, now });
  });
  if (expired.length > 0) {
    deps.metrics.expired.inc(expired.length);
    for (const r of expired) {
      deps.log.info({ reservationId: r.reservation_id, cpId: r.cp_id, expiresAt: r.expires_at }, "Reservation expired and rolled back");
    }
    deps.notifyOutbox();
  }
  return expired.length;
}

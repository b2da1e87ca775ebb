import type { Sql } from "../../db/db.ts";
import type { ReservationRow } from "../../store/reservations.ts";
import { applyTransition } from "../apply-transition.ts";
import type { LifecycleEvent } from "../transitions.ts";

/** Why a reservation is cancelled; each is a row of TRANSITIONS with its own effects. */
export type CancelCause = Extract<LifecycleEvent, `cancel${string}` | "reconcileReservationLost" | "reconcileChargerBusy">;

/**
 * Cancels one reservation for `cause`, with that row's effects (charge point freed or taken out
 * of service, `cancel_reservation` queued or not). Null if it was no longer in a state the cause
 * applies to: a concurrent writer got there first.
 */
export async function cancel(
  tx: Sql,
  cause: CancelCause,
  reservationId: string,
  now: Date,
  reason?: string,
): Promise<ReservationRow | null> {
  const [row] = await applyTransition(tx, cause, { reservationIds: [reservationId], at: now, now, ...(reason ? { reason } : {}) });
  return row ?? null;
}

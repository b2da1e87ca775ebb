import type { Sql } from "../db/db.ts";
import { enqueueCommand } from "../store/commands.ts";
import type { ReservationRow } from "../store/reservations.ts";
import { moveChargePoints } from "./store/charge-points.ts";
import { transitionReservations } from "./store/reservations.ts";
import { storedFrom, TRANSITIONS, type LifecycleEvent, type Transition } from "./transitions.ts";

export interface TransitionTarget {
  /** Reservations the row applies to; each moves only if still in the row's `from`. */
  reservationIds?: string[];
  /** Charge points, for rows that move no reservation. */
  cpIds?: string[];
  /** When it happened: the charger's clock for starts and stops, ours otherwise. */
  at: Date;
  /** Our clock, for the outbox. */
  now: Date;
  /** Overrides the row's end reason where the caller knows more (e.g. the charger's refusal text). */
  reason?: string;
}

/**
 * Applies one row of TRANSITIONS: the reservation move, the charge-point move, and the outbox
 * command, in the caller's transaction. This is the one place "end the reservation, free the
 * charge point, tell the charger" is written. Set-based: N reservations are one UPDATE per effect,
 * so a batch of events can share one transaction. Sessions are the intents' (they need the meter).
 */
export async function applyTransition(tx: Sql, event: LifecycleEvent, target: TransitionTarget): Promise<ReservationRow[]> {
  const rule: Transition = TRANSITIONS[event];
  let moved: ReservationRow[] = [];
  if (rule.reservation?.to && rule.reservation.to !== "none") {
    moved = await transitionReservations(tx, target.reservationIds ?? [], storedFrom(event), rule.reservation.to, {
      at: target.at,
      reason: target.reason ?? rule.endReason,
    });
  }
  const cpIds = rule.reservation?.to ? moved.map((r) => r.cp_id) : (target.cpIds ?? []);
  if (rule.chargePoint && rule.chargePoint.to !== "live") {
    await moveChargePoints(tx, cpIds, rule.chargePoint.from, rule.chargePoint.to);
  }
  if (rule.command === "cancel_reservation") {
    for (const r of moved) await enqueueCommand(tx, r.cp_id, "cancel_reservation", { reservationId: r.reservation_id }, target.now);
  }
  return moved;
}

import type { Sql } from "../../db/db.ts";
import type { LifecycleDeps } from "../deps.ts";
import { applyTransition } from "../apply-transition.ts";
import { clearFault, moveChargePoints, setFault } from "../store/charge-points.ts";
import { lockLiveReservationForCp } from "../store/reservations.ts";
import { TRANSITIONS, type Transition } from "../transitions.ts";
import { cancel } from "./cancel.ts";

/**
 * A faulted or unavailable charge point cannot be reserved. A reservation that had not started is
 * cancelled with a reason its driver can see (TRANSITIONS.cancelFaulted / .cancelUnavailable); a
 * session in progress is left to the charger's own `charging_stopped`, which closes it with the
 * energy actually delivered (.takeOutOfService*).
 */
export async function takeOutOfService(tx: Sql, deps: LifecycleDeps, cpId: string, status: "faulted" | "unavailable", now: Date): Promise<void> {
  const live = await lockLiveReservationForCp(tx, cpId);
  if (live?.status === "reserved") {
    const cancelled = await cancel(tx, status === "faulted" ? "cancelFaulted" : "cancelUnavailable", live.reservation_id, now);
    if (cancelled) {
      deps.log.warn({ cpId, reservationId: live.reservation_id }, "Reservation cancelled: charge point out of service");
      return;
    }
  }
  const event = status === "faulted" ? "takeOutOfServiceFaulted" : "takeOutOfServiceUnavailable";
  await applyTransition(tx, event, { cpIds: [cpId], at: now, now });
}

/** A `fault` event: out of service, with the charger's code and message shown on the charge point. */
export async function faulted(tx: Sql, deps: LifecycleDeps, cpId: string, code: string, message: string, now: Date): Promise<void> {
  await takeOutOfService(tx, deps, cpId, "faulted", now);
  await setFault(tx, cpId, code, message);
}

/** TRANSITIONS.returnToService: `charging` if a session is still live there, else `available`. */
export async function returnToService(tx: Sql, cpId: string, from: readonly ("faulted" | "unavailable")[]): Promise<void> {
  const live = await lockLiveReservationForCp(tx, cpId);
  const next = live?.status === "charging" ? "charging" : "available";
  const rule: Transition = TRANSITIONS.returnToService;
  const allowed = rule.chargePoint?.from === "any" ? from : from.filter((s) => rule.chargePoint?.from.includes(s));
  const moved = await moveChargePoints(tx, [cpId], allowed, next);
  if (moved.length > 0) await clearFault(tx, cpId);
}

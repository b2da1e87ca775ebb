import type { ChargerStatus } from "../../../protocol/index.ts";
import type { Sql } from "../../db/db.ts";
import { applyTransition } from "../apply-transition.ts";
import type { LifecycleDeps } from "../deps.ts";
import { clearConflict, setConflict } from "../store/charge-points.ts";
import { lockLiveReservationForCp } from "../store/reservations.ts";
import { closeSession } from "../store/sessions.ts";
import { cancel } from "./cancel.ts";

/**
 * A charger's reported status must be newer than our last decision by this much before it can
 * contradict it: a `status: available` sent just before the charger received `reserve` is
 * in flight, not a conflict.
 */
const SETTLE_MS = 5_000;

export type ConflictKind = "reservation_lost" | "session_lost" | "charging_without_session" | "reserved_unknown";

export interface Reported {
  cpId: string;
  status: ChargerStatus;
  eventTime: Date;
  now: Date;
}

/**
 * Reconciles Central's view with what the charger reports (after boot or a reconnect every
 * charger reports its status). Physical state wins: a reservation the charger no longer holds is
 * cancelled (TRANSITIONS.reconcileReservationLost), a session it is no longer running is closed
 * with the last metered energy (.reconcileSessionLost), and a charger charging without a session
 * is taken out of service until it says otherwise (.reconcileChargerBusy / .reconcileBusyNoReservation).
 * Every conflict is logged, counted and shown on the charge point.
 */
export async function reconcile(tx: Sql, deps: LifecycleDeps, e: Reported): Promise<void> {
  const { cpId, status: reported, eventTime, now } = e;
  const live = await lockLiveReservationForCp(tx, cpId);
  const settled = (since: Date | null) => since !== null && eventTime.getTime() >= since.getTime() + SETTLE_MS;
  let conflict: { kind: ConflictKind; detail: string } | null = null;

  // A charger keeps the reservation's expiry on its own clock; going available at that moment is
  // the normal end of a no-show, which the expiry sweep rolls back, not a conflict.
  const ownExpiry = live?.status === "reserved" && eventTime.getTime() >= live.expires_at.getTime() - SETTLE_MS;
  if (reported === "available" && live?.status === "reserved" && settled(live.created_at) && !ownExpiry) {
    await cancel(tx, "reconcileReservationLost", live.reservation_id, now);
    conflict = { kind: "reservation_lost", detail: `charger reported available while reservation ${live.reservation_id} was live` };
  } else if (reported === "available" && live?.status === "charging" && settled(live.started_at)) {
    await closeSession(tx, live.reservation_id, null, eventTime, "reconciled");
    await applyTransition(tx, "reconcileSessionLost", { reservationIds: [live.reservation_id], at: eventTime, now });
    conflict = { kind: "session_lost", detail: `charger reported available while session for ${live.reservation_id} was open` };
  } else if (reported === "charging" && live?.status !== "charging") {
    if (live?.status === "reserved") await cancel(tx, "reconcileChargerBusy", live.reservation_id, now);
    else await applyTransition(tx, "reconcileBusyNoReservation", { cpIds: [cpId], at: now, now });
    conflict = { kind: "charging_without_session", detail: "charger reported charging with no session open" };
  } else if (reported === "reserved" && !live) {
    conflict = { kind: "reserved_unknown", detail: "charger reported a reservation Central does not have" };
  }

  if (conflict) {
    deps.metrics.conflicts.inc({ kind: conflict.kind });
    deps.log.warn({ cpId, reported, ...conflict }, "Charge point state conflict reconciled; physical state wins");
    await setConflict(tx, cpId, conflict.kind, conflict.detail, now);
  } else {
    await clearConflict(tx, cpId);
  }
}

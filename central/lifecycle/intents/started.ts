import { newId } from "../../../protocol/index.ts";
import type { Sql } from "../../db/db.ts";
import { enqueueCommand } from "../../store/commands.ts";
import { getReservation, type ReservationRow } from "../../store/reservations.ts";
import { applyTransition } from "../apply-transition.ts";
import type { LifecycleDeps } from "../deps.ts";
import { openSession } from "../store/sessions.ts";
import { lockLiveReservationForCp } from "../store/reservations.ts";
import { TRANSITIONS } from "../transitions.ts";
import { cancel } from "./cancel.ts";

export interface Started {
  cpId: string;
  reservationId: string;
  meterStartWh: number;
  /** The charger's clock: whether the start was in time is judged by when it happened. */
  eventTime: Date;
  now: Date;
}

/**
 * The charger reports `charging_started`. TRANSITIONS.started for a live reservation,
 * .startedLate for an expired one whose start came before expiry plus the skew tolerance (the
 * event waited in a gateway's queue through a Kafka outage; a reservation that took the charge
 * point meanwhile yields: .cancelPreempted), .startRefused for anything else.
 */
export async function started(tx: Sql, deps: LifecycleDeps, e: Started): Promise<void> {
  const r = await getReservation(tx, e.reservationId, true);
  const own = r !== null && r.cp_id === e.cpId;
  if (own && r.status === "reserved") return start(tx, deps, e, r, false);
  if (own && r.status === "charging") return; // the same start seen under another message id
  if (own && r.status === "expired" && inTime(deps, e, r)) return startLate(tx, deps, e, r);
  deps.metrics.rejectedStarts.inc();
  deps.log.warn(
    { cpId: e.cpId, reservationId: e.reservationId, status: r?.status ?? "unknown" },
    "charging_started for a reservation that cannot start; answering with stop",
  );
  await enqueueCommand(tx, e.cpId, TRANSITIONS.startRefused.command, { reservationId: e.reservationId }, e.now);
}

function inTime(deps: LifecycleDeps, e: Started, r: ReservationRow): boolean {
  return e.eventTime.getTime() <= r.expires_at.getTime() + deps.config.CLOCK_SKEW_TOLERANCE_SECONDS * 1000;
}

async function startLate(tx: Sql, deps: LifecycleDeps, e: Started, r: ReservationRow): Promise<void> {
  const other = await lockLiveReservationForCp(tx, e.cpId);
  if (other && other.reservation_id !== r.reservation_id) {
    await cancel(tx, "cancelPreempted", other.reservation_id, e.now);
    deps.log.warn({ cpId: e.cpId, cancelled: other.reservation_id, honoured: r.reservation_id }, "Late start preempted a newer reservation");
  }
  deps.metrics.lateStarts.inc();
  await start(tx, deps, e, r, true);
}

async function start(tx: Sql, deps: LifecycleDeps, e: Started, r: ReservationRow, late: boolean): Promise<void> {
  await applyTransition(tx, late ? "startedLate" : "started", { reservationIds: [r.reservation_id], at: e.eventTime, now: e.now });
  await openSession(tx, {
    session_id: newId("ses"),
    reservation_id: r.reservation_id,
    cp_id: e.cpId,
    driver_id: r.driver_id,
    meter_start_wh: e.meterStartWh,
    started_at: e.eventTime,
    late,
  });
  deps.log.info({ cpId: e.cpId, reservationId: r.reservation_id, late }, "Charging started");
}

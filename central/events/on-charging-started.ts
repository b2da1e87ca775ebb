import { newId } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import type { Sql } from "../db/db.ts";
import { enqueueCommand } from "../store/commands.ts";
import { getLiveReservationForCp, getReservation, transitionReservation, type ReservationRow } from "../store/reservations.ts";
import { openSession } from "../store/sessions.ts";
import type { EventHandler, EventInput } from "./handler.ts";

/**
 * reserved -> charging, judged by the charger's event time:
 * - a live reservation starts;
 * - an expired one whose start happened before expiry (plus the skew tolerance) is honoured late,
 *   e.g. when the event waited in a gateway's queue through a Kafka outage; a reservation that took
 *   the charge point meanwhile is cancelled with a reason its driver can see;
 * - anything else (unknown, cancelled, truly expired, another charger's) is recorded and answered
 *   with `stop`, because a charger must not deliver energy nobody will account for.
 */
export const onChargingStarted: EventHandler<"charging_started"> = async (tx, ctx, e) => {
  const r = await getReservation(tx, e.payload.reservationId, true);
  if (r && r.cp_id === e.cpId && r.status === "reserved") return start(tx, ctx, e, r, false);
  if (r && r.cp_id === e.cpId && r.status === "charging") return; // same start seen under another message id
  if (r && r.cp_id === e.cpId && r.status === "expired" && startedInTime(ctx, e, r)) return startLate(tx, ctx, e, r);
  ctx.metrics.rejectedStarts.inc();
  ctx.log.warn(
    { cpId: e.cpId, reservationId: e.payload.reservationId, status: r?.status ?? "unknown" },
    "charging_started for a reservation that cannot start; answering with stop",
  );
  await enqueueCommand(tx, e.cpId, "stop", { reservationId: e.payload.reservationId }, e.now);
};

function startedInTime(ctx: CentralContext, e: EventInput<"charging_started">, r: ReservationRow): boolean {
  const tolerance = ctx.config.CLOCK_SKEW_TOLERANCE_SECONDS * 1000;
  return e.eventTime.getTime() <= r.expires_at.getTime() + tolerance;
}

async function startLate(tx: Sql, ctx: CentralContext, e: EventInput<"charging_started">, r: ReservationRow) {
  const other = await getLiveReservationForCp(tx, e.cpId);
  if (other && other.reservation_id !== r.reservation_id) {
    await transitionReservation(tx, other.reservation_id, ["reserved", "charging"], "cancelled", {
      at: e.now,
      reason: "charge_point_taken_by_earlier_session",
    });
    await enqueueCommand(tx, e.cpId, "cancel_reservation", { reservationId: other.reservation_id }, e.now);
    ctx.log.warn({ cpId: e.cpId, cancelled: other.reservation_id, honoured: r.reservation_id }, "Late start preempted a newer reservation");
  }
  ctx.metrics.lateStarts.inc();
  await start(tx, ctx, e, r, true);
}

async function start(tx: Sql, ctx: CentralContext, e: EventInput<"charging_started">, r: ReservationRow, late: boolean) {
  await transitionReservation(tx, r.reservation_id, ["reserved", "expired"], "charging", { at: e.eventTime });
  await tx.query(
    "UPDATE charge_points SET status = 'charging' WHERE cp_id = $1 AND status NOT IN ('faulted', 'unavailable')",
    [e.cpId],
  );
  await openSession(tx, {
    session_id: newId("ses"),
    reservation_id: r.reservation_id,
    cp_id: e.cpId,
    driver_id: r.driver_id,
    meter_start_wh: e.payload.meterStartWh,
    started_at: e.eventTime,
    late,
  });
  ctx.log.info({ cpId: e.cpId, reservationId: r.reservation_id, late }, "Charging started");
};

import type { ChargerStatus } from "../../protocol/index.ts";
import type { CentralContext } from "../context.ts";
import type { Sql } from "../db/db.ts";
import { enqueueCommand } from "../store/commands.ts";
import { getLiveReservationForCp, transitionReservation } from "../store/reservations.ts";
import { releaseChargePoint } from "../domain/release-charge-point.ts";

/**
 * A charger's reported status must be newer than our last decision by this much before it can
 * contradict it: a `status: available` sent just before the charger received `reserve` is
 * in flight, not a conflict.
 */
const SETTLE_MS = 5_000;

export type ConflictKind = "reservation_lost" | "session_lost" | "charging_without_session" | "reserved_unknown";

/**
 * Reconciles Central's view with what the charger reports (after boot or a reconnect every
 * charger reports its status). Physical state wins: a reservation the charger no longer holds is
 * cancelled, a session it is no longer running is closed with the last metered energy, and a
 * charger charging without a session is taken out of service until it says otherwise. Every
 * conflict is logged, counted and shown on the charge point.
 */
export async function reconcileStatus(
  tx: Sql,
  ctx: CentralContext,
  cpId: string,
  reported: ChargerStatus,
  eventTime: Date,
  now: Date,
): Promise<void> {
  const live = await getLiveReservationForCp(tx, cpId);
  const settled = (since: Date | null) => since !== null && eventTime.getTime() >= since.getTime() + SETTLE_MS;
  let conflict: { kind: ConflictKind; detail: string } | null = null;

  // A charger keeps the reservation's expiry on its own clock; going available at that moment is
  // the normal end of a no-show, which the expiry sweep rolls back, not a conflict.
  const ownExpiry = live?.status === "reserved" && eventTime.getTime() >= live.expires_at.getTime() - SETTLE_MS;
  if (reported === "available" && live?.status === "reserved" && settled(live.created_at) && !ownExpiry) {
    await transitionReservation(tx, live.reservation_id, ["reserved"], "cancelled", { at: now, reason: "charger_lost_reservation" });
    await releaseChargePoint(tx, cpId, "reserved");
    conflict = { kind: "reservation_lost", detail: `charger reported available while reservation ${live.reservation_id} was live` };
  } else if (reported === "available" && live?.status === "charging" && settled(live.started_at)) {
    await tx.query(
      `UPDATE sessions SET stopped_at = $2, stop_reason = 'reconciled', meter_stop_wh = meter_last_wh, power_w = 0
        WHERE reservation_id = $1 AND stopped_at IS NULL`,
      [live.reservation_id, eventTime],
    );
    await transitionReservation(tx, live.reservation_id, ["charging"], "completed", { at: eventTime, reason: "reconciled" });
    await releaseChargePoint(tx, cpId, "charging");
    conflict = { kind: "session_lost", detail: `charger reported available while session for ${live.reservation_id} was open` };
  } else if (reported === "charging" && live?.status !== "charging") {
    if (live?.status === "reserved") {
      await transitionReservation(tx, live.reservation_id, ["reserved"], "cancelled", { at: now, reason: "charger_busy" });
      await enqueueCommand(tx, cpId, "cancel_reservation", { reservationId: live.reservation_id }, now);
    }
    await tx.query("UPDATE charge_points SET status = 'unavailable' WHERE cp_id = $1 AND status IN ('available', 'reserved')", [cpId]);
    conflict = { kind: "charging_without_session", detail: "charger reported charging with no session open" };
  } else if (reported === "reserved" && !live) {
    conflict = { kind: "reserved_unknown", detail: "charger reported a reservation Central does not have" };
  }

  if (conflict) {
    ctx.metrics.conflicts.inc({ kind: conflict.kind });
    ctx.log.warn({ cpId, reported, ...conflict }, "Charge point state conflict reconciled; physical state wins");
    await tx.query("UPDATE charge_points SET conflict_kind = $2, conflict_detail = $3, conflict_at = $4 WHERE cp_id = $1", [
      cpId,
      conflict.kind,
      conflict.detail,
      now,
    ]);
  } else {
    await tx.query("UPDATE charge_points SET conflict_kind = NULL, conflict_detail = NULL, conflict_at = NULL WHERE cp_id = $1 AND conflict_kind IS NOT NULL", [cpId]);
  }
}

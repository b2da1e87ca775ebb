import type { ChargePointRow } from "../store/charge-points.ts";
import type { ReservationRow } from "../store/reservations.ts";
import type { SessionRow } from "../store/sessions.ts";
import type { ChargePointView, ReservationView, SessionView } from "./schemas.ts";

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function chargePointToView(r: ChargePointRow): ChargePointView {
  return {
    cpId: r.cp_id,
    status: r.status,
    online: r.online,
    lastSeenAt: iso(r.last_seen_at),
    reportedStatus: r.reported_status,
    vendor: r.vendor,
    model: r.model,
    firmware: r.firmware,
    fault: r.fault_code ? { code: r.fault_code, message: r.fault_message } : null,
    conflict: r.conflict_kind ? { kind: r.conflict_kind, detail: r.conflict_detail, at: iso(r.conflict_at)! } : null,
    credentialsRevoked: r.secret_hash === null,
    // `?? null`: a row read before migration 13 (an old stream change) has no such keys.
    transport: r.transport ?? null,
    connector: r.charge_box != null && r.connector_id != null ? { chargeBox: r.charge_box, connectorId: r.connector_id } : null,
  };
}

export function reservationToView(r: ReservationRow): ReservationView {
  return {
    reservationId: r.reservation_id,
    cpId: r.cp_id,
    status: r.status,
    expiresAt: r.expires_at.toISOString(),
    createdAt: r.created_at.toISOString(),
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    endReason: r.end_reason,
  };
}

export function sessionToView(s: SessionRow): SessionView {
  return {
    sessionId: s.session_id,
    reservationId: s.reservation_id,
    cpId: s.cp_id,
    energyWh: s.energy_wh,
    powerW: s.power_w,
    startedAt: s.started_at.toISOString(),
    stoppedAt: iso(s.stopped_at),
    stopReason: s.stop_reason,
    late: s.late,
  };
}

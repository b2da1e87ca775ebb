import type { FleetCharger } from "../charger.ts";
import type { Fleet as AnyFleet } from "../fleet.ts";

type Fleet = AnyFleet<FleetCharger>;
import { TERMINAL, type ChargePointView, type Ledger, type SessionView } from "./ledger.ts";
import type { StuckReservation } from "./monitor.ts";

export interface InvariantResult {
  name: string;
  /** What it means, for the report and docs/hil.md. */
  description: string;
  /** Where the evidence comes from: Central's REST API, the simulator's own records, or both. */
  method: "rest" | "simulator" | "rest+simulator";
  ok: boolean;
  /** How many things were checked: a pass over nothing is reported as such. */
  checked: number;
  violations: unknown[];
}

const result = (r: Omit<InvariantResult, "ok">): InvariantResult => ({ ...r, ok: r.violations.length === 0 });

/**
 * No charge point stays `reserved` past its reservation's expiry plus the grace: checked while
 * the run goes (monitor.ts) and at the end, where a charge point in scope still `reserved` with
 * none of our reservations live on it counts too.
 */
export function noReservationStuck(stuck: Map<string, StuckReservation>, ledger: Ledger, chargePoints: ChargePointView[]): InvariantResult {
  const violations: unknown[] = [...stuck.values()].map((s) => ({ ...s, kind: "reservation_overdue" }));
  const held = ledger.liveCpIds();
  for (const cp of chargePoints) {
    if (cp.status === "reserved" && !held.has(cp.cpId)) violations.push({ kind: "charge_point_reserved_without_live_reservation", cpId: cp.cpId });
  }
  return result({
    name: "no_reservation_stuck",
    description: "No reservation is still `reserved` past expiresAt + grace, and no charge point is left `reserved` after the drain.",
    method: "rest",
    checked: ledger.reservations.size + chargePoints.length,
    violations,
  });
}

/** Every session that started has stopped, with energy >= 0, and its reservation completed. */
export function sessionsStopped(ledger: Ledger, sessions: SessionView[]): InvariantResult {
  const byReservation = new Map(sessions.map((s) => [s.reservationId, s]));
  const violations: unknown[] = [];
  let checked = 0;
  for (const r of ledger.reservations.values()) {
    if (!r.startedAt) continue;
    checked += 1;
    const s = byReservation.get(r.reservationId);
    if (!s) violations.push({ kind: "no_session", reservationId: r.reservationId, cpId: r.cpId });
    else if (!s.stoppedAt) violations.push({ kind: "session_not_stopped", reservationId: r.reservationId, cpId: r.cpId });
    else if (typeof s.energyWh !== "number" || !(s.energyWh >= 0)) violations.push({ kind: "bad_energy", reservationId: r.reservationId, energyWh: s.energyWh });
    if (r.status !== "completed") violations.push({ kind: "started_but_not_completed", reservationId: r.reservationId, status: r.status });
  }
  for (const s of sessions) {
    if (!ledger.reservations.get(s.reservationId)?.startedAt && !s.stoppedAt) {
      violations.push({ kind: "session_not_stopped", reservationId: s.reservationId, cpId: s.cpId });
    }
  }
  return result({
    name: "sessions_stopped",
    description: "Every session that started has stopped, with energyWh >= 0, and its reservation is completed.",
    method: "rest",
    checked,
    violations,
  });
}

/**
 * Every command answered. With simulated chargers: every command a charger received has a
 * command_result the platform acknowledged. Always (and all there is on real hardware): every
 * reservation ended completed, expired or cancelled, which needs the charger to have answered
 * (or Central to have rolled back) every reserve, start, stop and cancel along the way.
 */
export function commandsAnswered(ledger: Ledger, fleet?: Fleet): InvariantResult {
  const violations: unknown[] = [];
  let checked = 0;
  for (const r of ledger.reservations.values()) {
    checked += 1;
    if (!TERMINAL.has(r.status)) violations.push({ kind: "reservation_not_ended", reservationId: r.reservationId, cpId: r.cpId, status: r.status });
  }
  for (const charger of fleet?.chargers.values() ?? []) {
    for (const c of charger.firmware.commands.values()) {
      checked += 1;
      if (!c.acked) violations.push({ kind: "command_result_not_acknowledged", cpId: charger.cpId, commandId: c.id, type: c.type });
    }
  }
  return result({
    name: "commands_answered",
    description: fleet
      ? "Every command a simulated charger received was answered with a command_result the gateway acknowledged, and every reservation ended completed, expired or cancelled."
      : "Every reservation ended completed, expired or cancelled (on real hardware the REST view is the evidence that commands were answered or rolled back).",
    method: fleet ? "rest+simulator" : "rest",
    checked,
    violations,
  });
}

/** Simulated chargers only: Central's session energy equals the charger's own meter delta. */
export function energyMatchesMeter(fleet: Fleet, sessions: SessionView[]): InvariantResult {
  const violations: unknown[] = [];
  let checked = 0;
  // An OCPP charger knows its reservations by the gateway's integer ids, not Central's: its
  // sessions are matched to Central's in the order they started on that charge point.
  const byCp = new Map<string, SessionView[]>();
  for (const s of [...sessions].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))) byCp.set(s.cpId, [...(byCp.get(s.cpId) ?? []), s]);
  const inOrder = (s: SessionView) => {
    const logs = fleet.chargers.get(s.cpId)?.firmware.sessions ?? [];
    const central = byCp.get(s.cpId) ?? [];
    return logs.length === central.length ? logs[central.indexOf(s)] : undefined;
  };
  for (const s of sessions) {
    if (!s.stoppedAt) continue;
    const found = fleet.chargers.get(s.cpId)?.firmware.sessions.find((l) => l.reservationId === s.reservationId && l.meterStopWh !== null);
    const fallback = found ? undefined : inOrder(s);
    const log = found ?? (fallback?.meterStopWh != null ? fallback : undefined);
    if (!log) continue;
    checked += 1;
    const expected = Math.max(0, log.meterStopWh! - log.meterStartWh);
    if (s.energyWh !== expected) violations.push({ reservationId: s.reservationId, cpId: s.cpId, central: s.energyWh, charger: expected });
  }
  return result({
    name: "energy_matches_meter",
    description: "Each stopped session's energy at Central equals the simulated charger's meterStop - meterStart.",
    method: "rest+simulator",
    checked,
    violations,
  });
}

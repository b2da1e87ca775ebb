import type { DownstreamType } from "../../protocol/index.ts";
import type { ReservationStatus } from "../store/reservations.ts";
import type { ChargePointStatus } from "./store/charge-points.ts";

/** `none`: the charge point has no reservation the row applies to. */
export type ReservationState = "none" | ReservationStatus;

export interface Transition {
  /** Reservation: the states the event applies in, and the state it leaves; `to: null` leaves it as it is. */
  reservation: { from: readonly ReservationState[]; to: ReservationState | null } | null;
  /**
   * Charge point: moved only while in `from`, so a fault that came in meanwhile wins. `to: "live"`
   * means `charging` if a session is still live there, else `available`.
   */
  chargePoint: { from: readonly ChargePointStatus[] | "any"; to: ChargePointStatus | "live" } | null;
  session: "open" | "close" | "close_at_last_meter" | null;
  /** Command queued in the outbox in the same transaction. */
  command: DownstreamType | null;
  /** `end_reason` the reservation carries (overridden where the caller knows more). */
  endReason?: string;
}

const R = (from: readonly ReservationState[], to: ReservationState | null) => ({ from, to });
const CP = (from: readonly ChargePointStatus[] | "any", to: ChargePointStatus | "live") => ({ from, to });
const FREE = CP(["reserved"], "available");

/**
 * The reservation, charge-point and session lifecycle: state × event → new state and effects.
 * docs/protocol.md ("Lifecycle") cites this table; tests/contract/lifecycle-table.contract.ts
 * runs every row on PGlite and PostgreSQL. The intents in ./intents apply these rows and
 * nothing else; a rule that is not here is not a rule.
 */
export const TRANSITIONS = {
  reserve:                     { reservation: R(["none"], "reserved"),                                chargePoint: CP(["available"], "reserved"),                         session: null,                  command: "reserve" },
  requestStart:                { reservation: R(["reserved"], null),                                  chargePoint: null,                                                  session: null,                  command: "start" },
  requestStop:                 { reservation: R(["charging"], null),                                  chargePoint: null,                                                  session: null,                  command: "stop" },
  started:                     { reservation: R(["reserved"], "charging"),                            chargePoint: CP(["available", "reserved", "charging"], "charging"), session: "open",                command: null },
  // by the charger's clock the start came before the expiry (plus skew): honoured, flagged late
  startedLate:                 { reservation: R(["expired"], "charging"),                             chargePoint: CP(["available", "reserved", "charging"], "charging"), session: "open",                command: null },
  // unknown, cancelled, completed, truly expired or another charger's: nobody would account for the energy
  startRefused:                { reservation: R(["none", "cancelled", "completed", "expired"], null), chargePoint: null,                                                  session: null,                  command: "stop" },
  stopped:                     { reservation: R(["charging"], "completed"),                           chargePoint: CP(["charging"], "available"),                         session: "close",               command: null },
  expire:                      { reservation: R(["reserved"], "expired"),                             chargePoint: FREE,                                                  session: null,                  command: "cancel_reservation", endReason: "not_started_in_time" },
  cancelByDriver:              { reservation: R(["reserved"], "cancelled"),                           chargePoint: FREE,                                                  session: null,                  command: "cancel_reservation", endReason: "cancelled_by_driver" },
  // the charger refused or never got `reserve`: it holds nothing, so nothing to cancel there
  cancelReserveRefused:        { reservation: R(["reserved"], "cancelled"),                           chargePoint: FREE,                                                  session: null,                  command: null, endReason: "reserve_rejected" },
  // a late start took the charge point: the newer reservation yields
  cancelPreempted:             { reservation: R(["reserved", "charging"], "cancelled"),               chargePoint: null,                                                  session: null,                  command: "cancel_reservation", endReason: "charge_point_taken_by_earlier_session" },
  cancelFaulted:               { reservation: R(["reserved"], "cancelled"),                           chargePoint: CP("any", "faulted"),                                  session: null,                  command: "cancel_reservation", endReason: "charge_point_faulted" },
  cancelUnavailable:           { reservation: R(["reserved"], "cancelled"),                           chargePoint: CP("any", "unavailable"),                              session: null,                  command: "cancel_reservation", endReason: "charge_point_unavailable" },
  // out of service with a session in progress: the charger's own `charging_stopped` closes it
  takeOutOfServiceFaulted:     { reservation: R(["none", "charging"], null),                          chargePoint: CP("any", "faulted"),                                  session: null,                  command: null },
  takeOutOfServiceUnavailable: { reservation: R(["none", "charging"], null),                          chargePoint: CP("any", "unavailable"),                              session: null,                  command: null },
  returnToService:             { reservation: null,                                                   chargePoint: CP(["faulted", "unavailable"], "live"),                session: null,                  command: null },
  // reconciliation: physical state wins (reconcile.ts says when each applies)
  reconcileReservationLost:    { reservation: R(["reserved"], "cancelled"),                           chargePoint: FREE,                                                  session: null,                  command: null, endReason: "charger_lost_reservation" },
  reconcileSessionLost:        { reservation: R(["charging"], "completed"),                           chargePoint: CP(["charging"], "available"),                         session: "close_at_last_meter", command: null, endReason: "reconciled" },
  reconcileChargerBusy:        { reservation: R(["reserved"], "cancelled"),                           chargePoint: CP(["available", "reserved"], "unavailable"),          session: null,                  command: "cancel_reservation", endReason: "charger_busy" },
  reconcileBusyNoReservation:  { reservation: R(["none"], null),                                      chargePoint: CP(["available", "reserved"], "unavailable"),          session: null,                  command: null },
} as const satisfies Record<string, Transition>;

export type LifecycleEvent = keyof typeof TRANSITIONS;

/** The reservation states a row leaves from, as stored statuses (`none` is no row at all). */
export function storedFrom(event: LifecycleEvent): ReservationStatus[] {
  const r: Transition["reservation"] = TRANSITIONS[event].reservation;
  return (r?.from ?? []).filter((s): s is ReservationStatus => s !== "none");
}

/**
 * The reservation, charge-point and session lifecycle: one home for every decision and every write.
 * TRANSITIONS (transitions.ts) is the table; the intents apply it; ./store holds all the SQL that
 * writes reservations, sessions and charge points. Callers (event handlers, REST routes, the
 * expiry sweeper) only translate their input into one of these calls.
 */
export { TRANSITIONS, type LifecycleEvent, type Transition } from "./transitions.ts";
export type { LifecycleDeps, LifecycleRunner } from "./deps.ts";
export { getDriverReservation } from "./driver-reservation.ts";
export { startExpirySweeper } from "./expiry-sweeper.ts";
export { cancel, type CancelCause } from "./intents/cancel.ts";
export { cancelByDriver } from "./intents/cancel-by-driver.ts";
export { booted, linkReported, presence, seen, seenAll } from "./intents/charger-facts.ts";
export { expireDue } from "./intents/expire.ts";
export { metered, meteredAll } from "./intents/metered.ts";
export { reconcile, type ConflictKind } from "./intents/reconcile.ts";
export { requestStart } from "./intents/request-start.ts";
export { requestStop } from "./intents/request-stop.ts";
export { reserve, type ReserveInput } from "./intents/reserve.ts";
export { reserveRefused } from "./intents/reserve-refused.ts";
export { faulted, returnToService, takeOutOfService } from "./intents/service.ts";
export { started } from "./intents/started.ts";
export { statusReported } from "./intents/status-reported.ts";
export { stopped } from "./intents/stopped.ts";
export { insertChargePoint, revokeSecret, setSecretHash } from "./store/charge-point-facts.ts";

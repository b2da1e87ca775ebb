import { closeSession } from "../store/sessions.ts";
import { transitionReservation } from "../store/reservations.ts";
import { releaseChargePoint } from "../domain/release-charge-point.ts";
import type { EventHandler } from "./handler.ts";

/** Closes the session with meterStop - meterStart (never negative) and frees the charge point. */
export const onChargingStopped: EventHandler<"charging_stopped"> = async (tx, ctx, e) => {
  const { reservationId, meterStopWh, reason } = e.payload;
  const session = await closeSession(tx, reservationId, meterStopWh, e.eventTime, reason);
  if (!session) {
    ctx.log.warn({ cpId: e.cpId, reservationId }, "charging_stopped for no open session; recorded and ignored");
    return;
  }
  await transitionReservation(tx, reservationId, ["charging"], "completed", { at: e.eventTime, reason });
  await releaseChargePoint(tx, e.cpId, "charging");
};

import { stopped } from "../lifecycle/index.ts";
import type { EventHandler } from "./handler.ts";

export const onChargingStopped: EventHandler<"charging_stopped"> = (tx, ctx, e) => {
  const { reservationId, meterStopWh, reason } = e.payload;
  return stopped(tx, ctx, { cpId: e.cpId, reservationId, meterStopWh, reason, eventTime: e.eventTime, now: e.now });
};

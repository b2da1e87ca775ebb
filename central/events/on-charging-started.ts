import { started } from "../lifecycle/index.ts";
import type { EventHandler } from "./handler.ts";

/** reserved -> charging, judged by the charger's event time: central/lifecycle/intents/started.ts. */
export const onChargingStarted: EventHandler<"charging_started"> = (tx, ctx, e) =>
  started(tx, ctx, { cpId: e.cpId, reservationId: e.payload.reservationId, meterStartWh: e.payload.meterStartWh, eventTime: e.eventTime, now: e.now });

import type { EventHandler } from "./handler.ts";
import { recordMeter } from "../store/sessions.ts";

/** `energyWh` is the meter register, like `meterStartWh`; the session's energy is the difference. */
export const onMeter: EventHandler<"meter"> = async (tx, _ctx, e) => {
  await recordMeter(tx, e.payload.reservationId, e.payload.energyWh, e.payload.powerW, e.eventTime);
};

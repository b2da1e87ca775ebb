import { metered } from "../lifecycle/index.ts";
import type { EventHandler } from "./handler.ts";

export const onMeter: EventHandler<"meter"> = (tx, _ctx, e) =>
  metered(tx, e.payload.reservationId, e.payload.energyWh, e.payload.powerW, e.eventTime);

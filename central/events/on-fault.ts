import type { EventHandler } from "./handler.ts";
import { returnToService, takeOutOfService } from "./service-state.ts";

export const onFault: EventHandler<"fault"> = async (tx, ctx, e) => {
  await takeOutOfService(tx, ctx, e.cpId, "faulted", e.now);
  await tx.query("UPDATE charge_points SET fault_code = $2, fault_message = $3 WHERE cp_id = $1", [
    e.cpId,
    e.payload.code,
    e.payload.message,
  ]);
};

export const onFaultCleared: EventHandler<"fault_cleared"> = async (tx, _ctx, e) => {
  await returnToService(tx, e.cpId, ["faulted"]);
};

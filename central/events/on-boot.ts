import type { EventHandler } from "./handler.ts";

export const onBoot: EventHandler<"boot"> = async (tx, _ctx, e) => {
  await tx.query("UPDATE charge_points SET vendor = $2, model = $3, firmware = $4 WHERE cp_id = $1", [
    e.cpId,
    e.payload.vendor,
    e.payload.model,
    e.payload.firmware,
  ]);
};

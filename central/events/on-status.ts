import type { EventHandler } from "./handler.ts";
import { takeOutOfService, returnToService } from "./service-state.ts";

/**
 * The charger's own status is recorded as reported. `faulted` and `unavailable` take the charge
 * point out of service; `available` brings an out-of-service one back. Reserved and charging are
 * owned by the reservation flow.
 */
export const onStatus: EventHandler<"status"> = async (tx, ctx, e) => {
  await tx.query(
    `UPDATE charge_points SET reported_status = $2, reported_at = $3
      WHERE cp_id = $1 AND (reported_at IS NULL OR reported_at <= $3)`,
    [e.cpId, e.payload.status, e.eventTime],
  );
  const status = e.payload.status;
  if (status === "faulted" || status === "unavailable") {
    await takeOutOfService(tx, ctx, e.cpId, status, e.now);
  } else if (status === "available") {
    await returnToService(tx, e.cpId, ["faulted", "unavailable"]);
  }
};

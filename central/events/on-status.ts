import type { EventHandler } from "./handler.ts";
import { reconcileStatus } from "./reconcile.ts";
import { returnToService, takeOutOfService } from "./service-state.ts";

/**
 * The charger's own status, by its own clock: a report older than the last one is recorded
 * nowhere. `faulted` and `unavailable` take the charge point out of service, `available` brings
 * it back, and every report is reconciled against the reservation flow (physical state wins).
 */
export const onStatus: EventHandler<"status"> = async (tx, ctx, e) => {
  const fresh = await tx.query(
    `UPDATE charge_points SET reported_status = $2, reported_at = $3
      WHERE cp_id = $1 AND (reported_at IS NULL OR reported_at <= $3) RETURNING cp_id`,
    [e.cpId, e.payload.status, e.eventTime],
  );
  if (fresh.length === 0) return;
  const status = e.payload.status;
  if (status === "faulted" || status === "unavailable") {
    await takeOutOfService(tx, ctx, e.cpId, status, e.now);
    return;
  }
  if (status === "available") await returnToService(tx, e.cpId, ["faulted", "unavailable"]);
  await reconcileStatus(tx, ctx, e.cpId, status, e.eventTime, e.now);
};

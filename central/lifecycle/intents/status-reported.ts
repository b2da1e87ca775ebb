import type { Sql } from "../../db/db.ts";
import type { LifecycleDeps } from "../deps.ts";
import { recordReportedStatus } from "../store/charge-point-facts.ts";
import { reconcile, type Reported } from "./reconcile.ts";
import { returnToService, takeOutOfService } from "./service.ts";

/**
 * The charger's own status, by its own clock: a report older than the last one is recorded
 * nowhere. `faulted` and `unavailable` take the charge point out of service, `available` brings
 * it back, and every report is reconciled against the reservation flow (physical state wins).
 */
export async function statusReported(tx: Sql, deps: LifecycleDeps, e: Reported): Promise<void> {
  if (!(await recordReportedStatus(tx, e.cpId, e.status, e.eventTime))) return;
  if (e.status === "faulted" || e.status === "unavailable") {
    await takeOutOfService(tx, deps, e.cpId, e.status, e.now);
    return;
  }
  if (e.status === "available") await returnToService(tx, e.cpId, ["faulted", "unavailable"]);
  await reconcile(tx, deps, e);
}

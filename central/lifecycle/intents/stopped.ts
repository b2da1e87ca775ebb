import type { Sql } from "../../db/db.ts";
import { applyTransition } from "../apply-transition.ts";
import type { LifecycleDeps } from "../deps.ts";
import { closeSession } from "../store/sessions.ts";

export interface Stopped {
  cpId: string;
  reservationId: string;
  meterStopWh: number;
  reason: string;
  eventTime: Date;
  now: Date;
}

/** TRANSITIONS.stopped: the session closes with meterStop - meterStart (never negative), the charge point is freed. */
export async function stopped(tx: Sql, deps: LifecycleDeps, e: Stopped): Promise<void> {
  const session = await closeSession(tx, e.reservationId, e.meterStopWh, e.eventTime, e.reason);
  if (!session) {
    deps.log.warn({ cpId: e.cpId, reservationId: e.reservationId }, "charging_stopped for no open session; recorded and ignored");
    return;
  }
  await applyTransition(tx, "stopped", { reservationIds: [e.reservationId], at: e.eventTime, now: e.now, reason: e.reason });
}

import type { Sql } from "../../db/db.ts";
import { cancel } from "./cancel.ts";

/**
 * TRANSITIONS.cancelReserveRefused: a refused or undeliverable `reserve` ends the reservation at
 * once rather than at its expiry, so the driver learns quickly and the charge point is freed.
 */
export async function reserveRefused(tx: Sql, reservationId: string, status: string, reason: string | undefined, now: Date): Promise<void> {
  await cancel(tx, "cancelReserveRefused", reservationId, now, `reserve_${status}${reason ? `: ${reason}` : ""}`);
}

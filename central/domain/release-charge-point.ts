import type { Sql } from "../db/db.ts";

/**
 * Frees a charge point whose live reservation ended, but only from the state that reservation
 * put it in: a charger that faulted meanwhile stays faulted.
 */
export async function releaseChargePoint(tx: Sql, cpId: string, from: "reserved" | "charging"): Promise<void> {
  await tx.query("UPDATE charge_points SET status = 'available' WHERE cp_id = $1 AND status = $2", [cpId, from]);
}

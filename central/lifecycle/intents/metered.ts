import type { Sql } from "../../db/db.ts";
import { recordMeter } from "../store/sessions.ts";

/** `energyWh` is the meter register, like `meterStartWh`; the session's energy is the difference. */
export async function metered(tx: Sql, reservationId: string, energyWh: number, powerW: number, at: Date): Promise<void> {
  await recordMeter(tx, reservationId, energyWh, powerW, at);
}

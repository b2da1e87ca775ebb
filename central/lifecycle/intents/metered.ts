import type { Sql } from "../../db/db.ts";
import { recordMeter, recordMeters, type MeterReading } from "../store/sessions.ts";

/** `energyWh` is the meter register, like `meterStartWh`; the session's energy is the difference. */
export async function metered(tx: Sql, reservationId: string, energyWh: number, powerW: number, at: Date): Promise<void> {
  await recordMeter(tx, reservationId, energyWh, powerW, at);
}

/**
 * A run of meter readings with no lifecycle event between them (so no session opens or closes
 * meanwhile), as one statement. Applied one by one, each reading replaces the last only if it is
 * not older (recordMeter), so the one left standing per reservation is the newest by `at`, and of
 * equally new ones the last in order; the database then applies only that one, under the same
 * condition against what is stored. Same outcome, one round trip.
 */
export async function meteredAll(tx: Sql, readings: MeterReading[]): Promise<void> {
  const standing = new Map<string, MeterReading>();
  for (const r of readings) {
    const prev = standing.get(r.reservationId);
    if (!prev || prev.at.getTime() <= r.at.getTime()) standing.set(r.reservationId, r);
  }
  await recordMeters(tx, [...standing.values()]);
}

import type { Sql } from "../../db/db.ts";
import type { SessionRow } from "../../store/sessions.ts";

/** Every write to `sessions`. */
export async function openSession(
  sql: Sql,
  s: Pick<SessionRow, "session_id" | "reservation_id" | "cp_id" | "driver_id" | "meter_start_wh" | "started_at" | "late">,
): Promise<void> {
  await sql.query(
    `INSERT INTO sessions (session_id, reservation_id, cp_id, driver_id, meter_start_wh, started_at, late, energy_wh)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0) ON CONFLICT (reservation_id) DO NOTHING`,
    [s.session_id, s.reservation_id, s.cp_id, s.driver_id, s.meter_start_wh, s.started_at, s.late],
  );
}

/** Meter values can arrive out of order after an outage; only a newer reading moves the session. */
export async function recordMeter(sql: Sql, reservationId: string, energyWh: number, powerW: number, at: Date): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE sessions
        SET meter_last_wh = $2, power_w = $3, meter_at = $4,
            energy_wh = GREATEST(0, $2 - meter_start_wh)
      WHERE reservation_id = $1 AND stopped_at IS NULL AND (meter_at IS NULL OR meter_at <= $4)
      RETURNING session_id`,
    [reservationId, energyWh, powerW, at],
  );
  return rows.length === 1;
}

/**
 * Closes an open session. Without a meter reading (`meterStopWh` null: the charger never said
 * `charging_stopped`) the last metered register stands, so the energy stays what was measured.
 */
export async function closeSession(
  sql: Sql,
  reservationId: string,
  meterStopWh: number | null,
  at: Date,
  reason: string,
): Promise<SessionRow | null> {
  const rows = await sql.query<SessionRow & Record<string, unknown>>(
    `UPDATE sessions
        SET meter_stop_wh = COALESCE($2::double precision, meter_last_wh),
            energy_wh = CASE WHEN $2::double precision IS NULL THEN energy_wh ELSE GREATEST(0, $2::double precision - meter_start_wh) END,
            stopped_at = $3, stop_reason = $4, power_w = 0
      WHERE reservation_id = $1 AND stopped_at IS NULL
      RETURNING *`,
    [reservationId, meterStopWh, at, reason],
  );
  return rows[0] ?? null;
}

export interface MeterReading {
  reservationId: string;
  energyWh: number;
  powerW: number;
  at: Date;
}

/**
 * recordMeter for a batch: one statement, at most one reading per reservation (the caller picks
 * the one that sequential application would leave standing; see intents/metered.ts). Values go
 * as text arrays and are cast in SQL, which both drivers bind the same way.
 */
export async function recordMeters(sql: Sql, readings: MeterReading[]): Promise<number> {
  if (readings.length === 0) return 0;
  const rows = await sql.query(
    `UPDATE sessions s
        SET meter_last_wh = v.energy_wh::double precision, power_w = v.power_w::double precision, meter_at = v.at::timestamptz,
            energy_wh = GREATEST(0, v.energy_wh::double precision - s.meter_start_wh)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(reservation_id, energy_wh, power_w, at)
      WHERE s.reservation_id = v.reservation_id AND s.stopped_at IS NULL
        AND (s.meter_at IS NULL OR s.meter_at <= v.at::timestamptz)
      RETURNING s.session_id`,
    [
      readings.map((r) => r.reservationId),
      readings.map((r) => String(r.energyWh)),
      readings.map((r) => String(r.powerW)),
      readings.map((r) => r.at.toISOString()),
    ],
  );
  return rows.length;
}

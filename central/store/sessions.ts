import type { Sql } from "../db/db.ts";

// Reads only: every write to sessions is in central/lifecycle/store.

export interface SessionRow {
  session_id: string;
  reservation_id: string;
  cp_id: string;
  driver_id: string;
  meter_start_wh: number;
  meter_last_wh: number | null;
  meter_at: Date | null;
  power_w: number | null;
  meter_stop_wh: number | null;
  energy_wh: number | null;
  started_at: Date;
  stopped_at: Date | null;
  stop_reason: string | null;
  late: boolean;
}

export async function listSessionsForDriver(sql: Sql, driverId: string): Promise<SessionRow[]> {
  return sql.query<SessionRow & Record<string, unknown>>(
    "SELECT * FROM sessions WHERE driver_id = $1 ORDER BY started_at DESC",
    [driverId],
  );
}

import type { Sql } from "../db/db.ts";

// Reads only: every write to reservations is in central/lifecycle/store.

export type ReservationStatus = "reserved" | "charging" | "completed" | "expired" | "cancelled";

export interface ReservationRow {
  reservation_id: string;
  cp_id: string;
  driver_id: string;
  status: ReservationStatus;
  created_at: Date;
  expires_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
}

export async function getReservation(sql: Sql, id: string, forUpdate = false): Promise<ReservationRow | null> {
  const rows = await sql.query<ReservationRow & Record<string, unknown>>(
    `SELECT * FROM reservations WHERE reservation_id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] ?? null;
}

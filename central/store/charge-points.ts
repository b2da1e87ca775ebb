import type { Sql } from "../db/db.ts";

// Reads only: every write to charge_points is in central/lifecycle/store.

export interface ChargePointRow {
  cp_id: string;
  status: "available" | "reserved" | "charging" | "faulted" | "unavailable";
  online: boolean;
  last_seen_at: Date | null;
  presence_at: Date | null;
  gateway_id: string | null;
  reported_status: string | null;
  reported_at: Date | null;
  vendor: string | null;
  model: string | null;
  firmware: string | null;
  fault_code: string | null;
  fault_message: string | null;
  /** Null once the charger's credentials are revoked. */
  secret_hash: string | null;
  created_at: Date;
  conflict_kind: string | null;
  conflict_detail: string | null;
  conflict_at: Date | null;
  /** Migration 13: how the charger reaches its gateway, and which box and connector it is. */
  transport: "mqtt" | "ocpp1.6" | null;
  charge_box: string | null;
  connector_id: number | null;
}

export async function getChargePoint(sql: Sql, cpId: string, forUpdate = false): Promise<ChargePointRow | null> {
  const rows = await sql.query<ChargePointRow & Record<string, unknown>>(
    `SELECT * FROM charge_points WHERE cp_id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [cpId],
  );
  return rows[0] ?? null;
}

export async function listChargePoints(sql: Sql): Promise<ChargePointRow[]> {
  return sql.query<ChargePointRow & Record<string, unknown>>("SELECT * FROM charge_points ORDER BY cp_id");
}

export async function listCredentials(sql: Sql): Promise<{ cp_id: string; secret_hash: string | null }[]> {
  return sql.query("SELECT cp_id, secret_hash FROM charge_points ORDER BY cp_id");
}

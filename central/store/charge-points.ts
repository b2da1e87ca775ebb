import type { Sql } from "../db/db.ts";

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
}

export async function insertChargePoint(sql: Sql, cpId: string, secretHash: string, now: Date): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO charge_points (cp_id, secret_hash, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (cp_id) DO NOTHING RETURNING cp_id`,
    [cpId, secretHash, now],
  );
  return rows.length === 1;
}

export async function setSecretHash(sql: Sql, cpId: string, secretHash: string): Promise<boolean> {
  const rows = await sql.query("UPDATE charge_points SET secret_hash = $2 WHERE cp_id = $1 RETURNING cp_id", [
    cpId,
    secretHash,
  ]);
  return rows.length === 1;
}

/** Revokes the charger's credentials: no secret is accepted until one is issued again. */
export async function revokeSecret(sql: Sql, cpId: string): Promise<boolean> {
  const rows = await sql.query("UPDATE charge_points SET secret_hash = NULL WHERE cp_id = $1 RETURNING cp_id", [cpId]);
  return rows.length === 1;
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

export async function setChargePointStatus(
  sql: Sql,
  cpId: string,
  status: ChargePointRow["status"],
): Promise<void> {
  await sql.query("UPDATE charge_points SET status = $2 WHERE cp_id = $1", [cpId, status]);
}

/** Any message from a charger proves it is alive now; never move last_seen backwards. */
export async function touchChargePoint(sql: Sql, cpId: string, now: Date): Promise<void> {
  await sql.query(
    `UPDATE charge_points SET last_seen_at = GREATEST(COALESCE(last_seen_at, $2), $2) WHERE cp_id = $1`,
    [cpId, now],
  );
}

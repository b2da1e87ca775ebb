import type { Sql } from "../../db/db.ts";
import type { ChargePointRow } from "../../store/charge-points.ts";

export type ChargePointStatus = ChargePointRow["status"];

/**
 * Every write to `charge_points`. Status moves are conditional on the state they leave, so a
 * charger that faulted meanwhile stays faulted; they take arrays, so a batch is one statement.
 */
export async function moveChargePoints(
  sql: Sql,
  cpIds: string[],
  from: readonly ChargePointStatus[] | "any",
  to: ChargePointStatus,
): Promise<string[]> {
  if (cpIds.length === 0) return [];
  const rows = await sql.query<{ cp_id: string }>(
    `UPDATE charge_points SET status = $2
      WHERE cp_id = ANY($1::text[]) AND ($3::text[] IS NULL OR status = ANY($3::text[])) RETURNING cp_id`,
    [cpIds, to, from === "any" ? null : [...from]],
  );
  return rows.map((r) => r.cp_id);
}

/** Whether any reservable charge point is left, counting ones other transactions hold locked. */
export async function anyReservable(sql: Sql): Promise<boolean> {
  const rows = await sql.query("SELECT 1 FROM charge_points WHERE status = 'available' AND online AND secret_hash IS NOT NULL LIMIT 1");
  return rows.length > 0;
}

/** Back in service, the fault is history. */
export async function clearFault(sql: Sql, cpId: string): Promise<void> {
  await sql.query("UPDATE charge_points SET fault_code = NULL, fault_message = NULL WHERE cp_id = $1", [cpId]);
}

export async function setFault(sql: Sql, cpId: string, code: string, message: string | null | undefined): Promise<void> {
  await sql.query("UPDATE charge_points SET fault_code = $2, fault_message = $3 WHERE cp_id = $1", [cpId, code, message ?? null]);
}

export async function setConflict(sql: Sql, cpId: string, kind: string, detail: string, at: Date): Promise<void> {
  await sql.query("UPDATE charge_points SET conflict_kind = $2, conflict_detail = $3, conflict_at = $4 WHERE cp_id = $1", [cpId, kind, detail, at]);
}

export async function clearConflict(sql: Sql, cpId: string): Promise<void> {
  await sql.query(
    "UPDATE charge_points SET conflict_kind = NULL, conflict_detail = NULL, conflict_at = NULL WHERE cp_id = $1 AND conflict_kind IS NOT NULL",
    [cpId],
  );
}

import type { Sql } from "../../db/db.ts";

/**
 * Writes to `charge_points` that are facts about the charger rather than lifecycle states:
 * provisioning, credentials, presence, identity, liveness and its own status report.
 */
export async function insertChargePoint(sql: Sql, cpId: string, secretHash: string, now: Date): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO charge_points (cp_id, secret_hash, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (cp_id) DO NOTHING RETURNING cp_id`,
    [cpId, secretHash, now],
  );
  return rows.length === 1;
}

export async function setSecretHash(sql: Sql, cpId: string, secretHash: string): Promise<boolean> {
  const rows = await sql.query("UPDATE charge_points SET secret_hash = $2 WHERE cp_id = $1 RETURNING cp_id", [cpId, secretHash]);
  return rows.length === 1;
}

/** Revokes the charger's credentials: no secret is accepted until one is issued again. */
export async function revokeSecret(sql: Sql, cpId: string): Promise<boolean> {
  const rows = await sql.query("UPDATE charge_points SET secret_hash = NULL WHERE cp_id = $1 RETURNING cp_id", [cpId]);
  return rows.length === 1;
}

/** Any message from a charger proves it is alive now; never move last_seen backwards. */
export async function touchChargePoint(sql: Sql, cpId: string, now: Date): Promise<void> {
  await sql.query(`UPDATE charge_points SET last_seen_at = GREATEST(COALESCE(last_seen_at, $2), $2) WHERE cp_id = $1`, [cpId, now]);
}

/**
 * Online/offline as the gateway saw it, ordered by the gateway's timestamp so that a stale
 * "offline" from a gateway the charger has left cannot override a newer "online" elsewhere.
 */
export async function recordPresence(sql: Sql, cpId: string, online: boolean, at: Date, gatewayId: string): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE charge_points
        SET online = $2, presence_at = $3, gateway_id = $4,
            last_seen_at = GREATEST(COALESCE(last_seen_at, $3), $3)
      WHERE cp_id = $1 AND (presence_at IS NULL OR presence_at <= $3)
      RETURNING cp_id`,
    [cpId, online, at, gatewayId],
  );
  return rows.length === 1;
}

export async function recordIdentity(sql: Sql, cpId: string, vendor: string, model: string, firmware: string): Promise<void> {
  await sql.query("UPDATE charge_points SET vendor = $2, model = $3, firmware = $4 WHERE cp_id = $1", [cpId, vendor, model, firmware]);
}

/**
 * Transport and connector; unchanged facts write nothing, so the stream logs no change
 * (migration 11's trigger) and a status report per message costs no row version.
 */
export async function recordLink(sql: Sql, cpId: string, transport: string, chargeBox: string | null, connectorId: number | null): Promise<void> {
  await sql.query(
    `UPDATE charge_points SET transport = $2, charge_box = $3, connector_id = $4
      WHERE cp_id = $1 AND (transport, charge_box, connector_id) IS DISTINCT FROM ($2::text, $3::text, $4::integer)`,
    [cpId, transport, chargeBox, connectorId],
  );
}

/** The charger's own status by its own clock; false for a report older than the last one. */
export async function recordReportedStatus(sql: Sql, cpId: string, status: string, at: Date): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE charge_points SET reported_status = $2, reported_at = $3
      WHERE cp_id = $1 AND (reported_at IS NULL OR reported_at <= $3) RETURNING cp_id`,
    [cpId, status, at],
  );
  return rows.length === 1;
}

/** touchChargePoint for a batch: one statement for every charger heard from in it. */
export async function touchChargePoints(sql: Sql, cpIds: string[], now: Date): Promise<void> {
  if (cpIds.length === 0) return;
  await sql.query(
    `UPDATE charge_points SET last_seen_at = GREATEST(COALESCE(last_seen_at, $2), $2) WHERE cp_id = ANY($1::text[])`,
    [cpIds, now],
  );
}

import type { Sql } from "../db/db.ts";
import type { GatewayHealth } from "../../protocol/index.ts";

export interface GatewayHealthRow {
  gateway_id: string;
  record: GatewayHealth;
  at: Date;
  received_at: Date;
}

/** The operator's view of a gateway: its last record plus `stale` (silent for longer than the threshold). */
export type GatewayView = Omit<GatewayHealth, "kind"> & { receivedAt: string; stale: boolean };

export function gatewayToView(r: GatewayHealthRow, now: number, staleMs: number): GatewayView {
  const { kind: _kind, ...record } = r.record;
  // By Central's receipt time as well as the gateway's own clock: a gateway whose clock runs
  // ahead must not look fresh for ever.
  const last = Math.min(r.at.getTime(), r.received_at.getTime());
  return { ...record, gatewayId: r.gateway_id, receivedAt: r.received_at.toISOString(), stale: now - last > staleMs };
}

/** Keeps the newest record per gateway; an older one arriving late (a replay) changes nothing. */
export async function upsertGatewayHealth(sql: Sql, record: GatewayHealth, receivedAt: Date): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO gateway_health (gateway_id, record, at, received_at) VALUES ($1, $2::text::jsonb, $3, $4)
     ON CONFLICT (gateway_id) DO UPDATE SET record = EXCLUDED.record, at = EXCLUDED.at, received_at = EXCLUDED.received_at
       WHERE gateway_health.at <= EXCLUDED.at
     RETURNING gateway_id`,
    [record.gatewayId, JSON.stringify(record), new Date(record.at), receivedAt],
  );
  return rows.length === 1;
}

export async function listGatewayHealth(sql: Sql): Promise<GatewayHealthRow[]> {
  return sql.query<GatewayHealthRow & Record<string, unknown>>("SELECT * FROM gateway_health ORDER BY gateway_id");
}

import type { Sql } from "../db/db.ts";
import type { Principal } from "../api/auth.ts";

export type StreamKind = "charge_point" | "reservation" | "session" | "gateway";

/** One row of `stream_changes` (migration 11), written by the table triggers, never by the application. */
export interface ChangeRow {
  id: number;
  kind: StreamKind;
  entity_id: string;
  driver_id: string | null;
  row_data: Record<string, unknown>;
}

// ORDER BY must name stream_changes.id: the alias "id" is text and would sort "10" before "9".
const COLUMNS = "id::text AS id, kind, entity_id, driver_id, row_data";

// int8 comes back as a string (postgres.js) or a bigint (PGlite); ids stay far below 2^53.
const normalise = (rows: (Omit<ChangeRow, "id"> & { id: string })[]): ChangeRow[] => rows.map((r) => ({ ...r, id: Number(r.id) }));

/** Changes after `afterId`, oldest first. */
export async function readChangesAfter(sql: Sql, afterId: number, limit: number): Promise<ChangeRow[]> {
  const rows = await sql.query<Omit<ChangeRow, "id"> & { id: string }>(
    `SELECT ${COLUMNS} FROM stream_changes WHERE id > $1 ORDER BY stream_changes.id LIMIT $2`,
    [afterId, limit],
  );
  return normalise(rows);
}

/** What a principal may see in (`afterId`, `upTo`], for a resume; the filter runs in SQL. */
export async function readReplay(sql: Sql, principal: Principal, afterId: number, upTo: number, limit: number): Promise<ChangeRow[]> {
  const driverId = principal.role === "driver" ? principal.driverId : null;
  const rows = await sql.query<Omit<ChangeRow, "id"> & { id: string }>(
    `SELECT ${COLUMNS} FROM stream_changes
      WHERE id > $1 AND id <= $2
        AND ($3::text IS NULL OR kind = 'charge_point' OR (kind IN ('reservation', 'session') AND driver_id = $3))
      ORDER BY stream_changes.id LIMIT $4`,
    [afterId, upTo, driverId, limit],
  );
  return normalise(rows);
}

/** The newest id (0 for an empty log) and the oldest id still kept (null for an empty log). */
export async function logBounds(sql: Sql): Promise<{ newest: number; oldest: number | null }> {
  const [row] = await sql.query<{ newest: string | null; oldest: string | null }>(
    "SELECT max(id)::text AS newest, min(id)::text AS oldest FROM stream_changes",
  );
  return { newest: row?.newest ? Number(row.newest) : 0, oldest: row?.oldest ? Number(row.oldest) : null };
}

/** Retention (central/retention): the resume window is STREAM_RETENTION_HOURS, by the database's clock. */
export async function pruneStreamChanges(tx: Sql, cutoff: Date, limit: number): Promise<number> {
  const rows = await tx.query(
    `DELETE FROM stream_changes WHERE id IN (
       SELECT id FROM stream_changes WHERE at < $1 ORDER BY id LIMIT $2) RETURNING id`,
    [cutoff, limit],
  );
  return rows.length;
}

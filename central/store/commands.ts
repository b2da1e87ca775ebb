import { newId } from "../../protocol/index.ts";
import type { DownstreamPayload, DownstreamType } from "../../protocol/index.ts";
import type { Sql } from "../db/db.ts";

export interface CommandRow {
  command_id: string;
  cp_id: string;
  type: DownstreamType;
  payload: DownstreamPayload;
  created_at: Date;
  published_at: Date | null;
  claimed_until: Date | null;
  /** The publisher (instance id plus a per-process suffix) whose lease this is. */
  claimed_by: string | null;
  status: "pending" | "accepted" | "rejected" | "expired";
}

type CommandFields<T extends DownstreamType> = Omit<DownstreamPayload<T>, "id" | "ts">;

/**
 * Transactional outbox: the command is committed with the state change that caused it, and the
 * outbox publisher puts it on the bus afterwards. A bus outage delays commands; it never loses them.
 */
export async function enqueueCommand<T extends DownstreamType>(
  sql: Sql,
  cpId: string,
  type: T,
  fields: CommandFields<T>,
  now: Date,
): Promise<string> {
  const commandId = newId("cmd");
  // `$4::text::jsonb`: postgres.js would JSON-encode a string bound straight to jsonb a second
  // time (PGlite does not); binding text and casting in SQL behaves the same on both.
  await sql.query(
    `INSERT INTO commands (command_id, cp_id, type, payload, created_at) VALUES ($1, $2, $3, $4::text::jsonb, $5)`,
    [commandId, cpId, type, commandPayload(commandId, now, fields), now],
  );
  return commandId;
}

/** A command's payload as stored (JSON text, bound as text and cast to jsonb): its id and time, then its fields. */
export function commandPayload<T extends DownstreamType>(commandId: string, now: Date, fields: CommandFields<T>): string {
  return JSON.stringify({ id: commandId, ts: now.toISOString(), ...fields });
}

/**
 * Leases unpublished commands for `leaseMs` to `owner` so that the bus publish happens outside any
 * transaction (a slow or absent bus must not hold database locks, and PGlite has one connection),
 * while another instance leaves them alone until the lease runs out. The lease is short and the
 * live owner renews it (`renewLease`) for as long as its publish is in flight, so the commands of
 * an instance that died are taken over within one lease, not after the longest publish we allow.
 *
 * A charger's commands must reach it in order (a `cancel_reservation` overtaking its `reserve`
 * would leave the charger reserved). So a command is leased only together with, or after the
 * publication of, every earlier unpublished command of its charger: while one instance holds a
 * lease on (or, mid-transaction, a row lock on) a charger's earlier command, another instance
 * skips that charger altogether. The check reads committed rows, and an earlier command that is
 * being leased right now still reads as unpublished, so both cases hold the charger back.
 */
export async function leaseUnpublished(sql: Sql, now: Date, leaseMs: number, limit: number, owner: string): Promise<CommandRow[]> {
  const rows = await sql.query<CommandRow & { seq: unknown } & Record<string, unknown>>(
    `WITH candidates AS (
       SELECT command_id, cp_id, seq FROM commands
        WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $1)
        ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED)
     UPDATE commands SET claimed_until = $2, claimed_by = $4
      WHERE command_id IN (
        SELECT c.command_id FROM candidates c
         WHERE NOT EXISTS (
           SELECT 1 FROM commands e
            WHERE e.cp_id = c.cp_id AND e.seq < c.seq AND e.published_at IS NULL
              AND e.command_id NOT IN (SELECT command_id FROM candidates)))
      RETURNING *`,
    [now, new Date(now.getTime() + leaseMs), limit, owner],
  );
  // RETURNING has no ORDER BY; per-charger order matters (reserve before cancel), so sort by seq.
  return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
}

/**
 * markPublished of the batch just published and leaseUnpublished of the next, as ONE statement:
 * a busy publisher pays one round trip and one commit per batch instead of two, and an idle one
 * two per kick (lease, then this finding nothing) instead of four. Same rules as the two apart:
 * only rows `owner` still holds are marked, and a charger's command is leased only with, or after
 * the publication of, every earlier one. The CTEs share one snapshot, in which the rows being
 * marked still read as unpublished, so the order check excludes them explicitly (they are
 * published by the time this commits); nor are they candidates, so no row is written twice.
 */
export async function markAndLease(
  sql: Sql,
  published: string[],
  now: Date,
  leaseMs: number,
  limit: number,
  owner: string,
): Promise<{ marked: number; leased: CommandRow[] }> {
  const rows = await sql.query<CommandRow & { seq: unknown; marked: number } & Record<string, unknown>>(
    `WITH marked AS (
       UPDATE commands SET published_at = $1
        WHERE command_id = ANY($5::text[]) AND claimed_by = $4 AND published_at IS NULL
        RETURNING command_id),
     candidates AS (
       SELECT command_id, cp_id, seq FROM commands
        WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $1) AND command_id <> ALL($5::text[])
        ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED),
     leased AS (
       UPDATE commands SET claimed_until = $2, claimed_by = $4
        WHERE command_id IN (
          SELECT c.command_id FROM candidates c
           WHERE NOT EXISTS (
             SELECT 1 FROM commands e
              WHERE e.cp_id = c.cp_id AND e.seq < c.seq AND e.published_at IS NULL
                AND e.command_id NOT IN (SELECT command_id FROM candidates)
                AND e.command_id NOT IN (SELECT command_id FROM marked)))
        RETURNING *)
     SELECT (SELECT count(*)::int FROM marked) AS marked, l.* FROM (SELECT 1) one LEFT JOIN leased l ON true`,
    [now, new Date(now.getTime() + leaseMs), limit, owner, published],
  );
  const marked = Number(rows[0]?.marked ?? 0);
  const leased = rows.filter((r) => r.command_id !== null).map(({ marked: _, ...r }) => r as unknown as CommandRow & { seq: unknown });
  return { marked, leased: leased.sort((a, b) => Number(a.seq) - Number(b.seq)) };
}

/**
 * Extends `owner`'s lease on those of `ids` it still holds and returns them. A missing id was taken
 * over by another instance (our lease had run out, e.g. the database was out of reach) or published.
 */
export async function renewLease(sql: Sql, ids: string[], owner: string, now: Date, leaseMs: number): Promise<string[]> {
  const rows = await sql.query<{ command_id: string }>(
    `UPDATE commands SET claimed_until = $3
      WHERE command_id = ANY($1::text[]) AND claimed_by = $2 AND published_at IS NULL
      RETURNING command_id`,
    [ids, owner, new Date(now.getTime() + leaseMs)],
  );
  return rows.map((r) => r.command_id);
}

/**
 * Marks published those of `ids` that `owner` still holds and returns how many. Rows another
 * instance took over stay its business: it publishes them again (a duplicate the charger drops by
 * command id) and marks them itself, so each row has one writer at a time and what its holder
 * believes it has yet to publish stays true.
 */
export async function markPublished(sql: Sql, ids: string[], now: Date, owner: string): Promise<number> {
  const rows = await sql.query<{ command_id: string }>(
    `UPDATE commands SET published_at = $2
      WHERE command_id = ANY($1::text[]) AND claimed_by = $3 AND published_at IS NULL
      RETURNING command_id`,
    [ids, now, owner],
  );
  return rows.length;
}

/** Gives up `owner`'s unpublished claims (graceful stop), so another instance takes them at once. */
export async function releaseLeases(sql: Sql, owner: string): Promise<number> {
  const rows = await sql.query<{ command_id: string }>(
    `UPDATE commands SET claimed_until = NULL WHERE claimed_by = $1 AND published_at IS NULL RETURNING command_id`,
    [owner],
  );
  return rows.length;
}

export async function countUnpublished(sql: Sql): Promise<number> {
  const rows = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM commands WHERE published_at IS NULL");
  return rows[0]?.n ?? 0;
}

export async function recordCommandResult(
  sql: Sql,
  commandId: string,
  status: "accepted" | "rejected" | "expired",
  reason: string | undefined,
  at: Date,
): Promise<CommandRow | null> {
  const rows = await sql.query<CommandRow & Record<string, unknown>>(
    `UPDATE commands SET status = $2, result_reason = $3, result_at = $4
      WHERE command_id = $1 AND status = 'pending' RETURNING *`,
    [commandId, status, reason ?? null, at],
  );
  return rows[0] ?? null;
}

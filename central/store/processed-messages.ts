import type { Sql } from "../db/db.ts";

/**
 * Records a charger message id inside the transaction that applies it. Returns false for a
 * repeat, which the caller then ignores: delivery is at-least-once, application is exactly-once.
 */
export async function markProcessed(sql: Sql, cpId: string, messageId: string, type: string, now: Date): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO processed_messages (cp_id, message_id, type, processed_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [cpId, messageId, type, now],
  );
  return rows.length === 1;
}

export interface MessageKey {
  cpId: string;
  messageId: string;
  type: string;
}

/**
 * markProcessed for a batch, in one statement: records the ids of messages from known charge
 * points and returns which were new (`cpId messageId`) and which charge points are known. The
 * caller passes each key once (a duplicate inside the batch is the caller's to spot: the first
 * occurrence is the one applied, as one by one).
 */
export async function markProcessedBatch(sql: Sql, keys: MessageKey[], now: Date): Promise<{ fresh: Set<string>; known: Set<string> }> {
  if (keys.length === 0) return { fresh: new Set(), known: new Set() };
  const rows = await sql.query<{ kind: string; cp_id: string; message_id: string | null }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS u(cp_id, message_id, type)),
     known AS (
       SELECT DISTINCT cp_id FROM charge_points WHERE cp_id IN (SELECT cp_id FROM input)),
     inserted AS (
       INSERT INTO processed_messages (cp_id, message_id, type, processed_at)
       SELECT i.cp_id, i.message_id, i.type, $4 FROM input i WHERE i.cp_id IN (SELECT cp_id FROM known)
       ON CONFLICT DO NOTHING RETURNING cp_id, message_id)
     SELECT 'new' AS kind, cp_id, message_id FROM inserted
     UNION ALL SELECT 'known', cp_id, NULL FROM known`,
    [keys.map((k) => k.cpId), keys.map((k) => k.messageId), keys.map((k) => k.type), now],
  );
  const fresh = new Set<string>();
  const known = new Set<string>();
  for (const r of rows) {
    if (r.kind === "new") fresh.add(messageKey(r.cp_id, r.message_id!));
    else known.add(r.cp_id);
  }
  return { fresh, known };
}

export function messageKey(cpId: string, messageId: string): string {
  return `${cpId}\u0000${messageId}`;
}

import type { Db, Sql } from "../db/db.ts";

export interface PruneTarget {
  /** The table's name, as the metric's `table` label and in logs. */
  table: string;
  /** Advisory lock key: one pruner per table at a time across all Central instances. */
  lockKey: number;
  deleteBatch(tx: Sql, cutoff: Date, limit: number): Promise<number>;
}

export interface BatchOptions {
  batchSize: number;
  /** Awaited between batches; the consumer's transactions get the database meanwhile. */
  pause: () => Promise<void>;
  /** Aborted: the batch in flight commits, no new one starts. */
  signal?: AbortSignal;
}

export interface PruneResult {
  /** Rows deleted by each batch, in order. */
  batches: number[];
  deleted: number;
  /** Another instance held the table's prune lock, so this round left the table to it. */
  skipped: boolean;
}

/**
 * Deletes rows older than `cutoff` in batches of `batchSize`, each in its own short transaction,
 * until a batch comes back short. No transaction ever holds more than one batch's row locks, and
 * on PGlite (one connection, transactions serialised) the event consumer's transactions run
 * between batches. `pg_try_advisory_xact_lock` makes many instances safe and cheap: one that finds
 * the lock taken skips the table this round rather than queueing behind the other; the deletes
 * are idempotent anyway, the lock only saves the duplicate work. PGlite has the same function.
 */
export async function pruneInBatches(db: Db, target: PruneTarget, cutoff: Date, options: BatchOptions): Promise<PruneResult> {
  const batches: number[] = [];
  let skipped = false;
  for (;;) {
    const deleted = await db.transaction(async (tx) => {
      const [lock] = await tx.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1) AS ok", [target.lockKey]);
      if (!lock?.ok) return null;
      return target.deleteBatch(tx, cutoff, options.batchSize);
    });
    if (deleted === null) {
      skipped = true;
      break;
    }
    batches.push(deleted);
    if (deleted < options.batchSize || options.signal?.aborted) break;
    await options.pause();
    if (options.signal?.aborted) break;
  }
  return { batches, deleted: batches.reduce((n, b) => n + b, 0), skipped };
}

import { delay } from "../../platform/backoff.ts";
import type { CentralContext } from "../context.ts";
import { pruneCommands } from "../store/prune-commands.ts";
import { pruneProcessedMessages } from "../store/prune-processed-messages.ts";
import { pruneStreamChanges } from "../stream/change-log.ts";
import { pruneInBatches, type PruneResult, type PruneTarget } from "./prune-in-batches.ts";

/** Fixed advisory lock keys, next to migrate()'s 4_242_001; one per pruned table. */
export const PROCESSED_PRUNE_LOCK = 4_242_071;
export const COMMANDS_PRUNE_LOCK = 4_242_072;
export const STREAM_PRUNE_LOCK = 4_242_073;

export const DEFAULT_BATCH_SIZE = 1_000;
export const DEFAULT_PAUSE_MS = 50;

const targets: { target: PruneTarget; hours: (ctx: CentralContext) => number }[] = [
  {
    target: { table: "processed_messages", lockKey: PROCESSED_PRUNE_LOCK, deleteBatch: pruneProcessedMessages },
    hours: (ctx) => ctx.config.PROCESSED_RETENTION_HOURS,
  },
  {
    target: { table: "commands", lockKey: COMMANDS_PRUNE_LOCK, deleteBatch: pruneCommands },
    hours: (ctx) => ctx.config.COMMAND_RETENTION_HOURS,
  },
  {
    // The stream's resume window; rows are stamped by the database's now() (the table trigger).
    target: { table: "stream_changes", lockKey: STREAM_PRUNE_LOCK, deleteBatch: pruneStreamChanges },
    hours: (ctx) => ctx.config.STREAM_RETENTION_HOURS,
  },
];

export interface RoundOptions {
  batchSize?: number;
  pause?: () => Promise<void>;
  signal?: AbortSignal;
}

/**
 * One retention round: each table whose retention is not 0 loses what is older than its window,
 * measured on Central's Clock (so tests move time with ManualClock). Returns each table's result.
 */
export async function pruneRound(ctx: CentralContext, options: RoundOptions = {}): Promise<Record<string, PruneResult>> {
  const started = performance.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const pause = options.pause ?? (() => delay(DEFAULT_PAUSE_MS, options.signal));
  const results: Record<string, PruneResult> = {};
  for (const { target, hours } of targets) {
    const h = hours(ctx);
    if (h === 0 || options.signal?.aborted) continue;
    const cutoff = new Date(ctx.clock.now() - h * 3_600_000);
    const r = await pruneInBatches(ctx.db, target, cutoff, { batchSize, pause, signal: options.signal });
    if (r.deleted > 0) ctx.metrics.rowsPruned.inc({ table: target.table }, r.deleted);
    results[target.table] = r;
  }
  const deleted = Object.values(results).reduce((n, r) => n + r.deleted, 0);
  if (deleted > 0) {
    const fields = Object.fromEntries(Object.entries(results).map(([t, r]) => [t, { deleted: r.deleted, batches: r.batches.length }]));
    ctx.log.info({ ...fields, ms: Math.round(performance.now() - started) }, "Retention prune round deleted old rows");
  }
  return results;
}

import { startPeriodicJob, type PeriodicJob } from "../../platform/periodic-job.ts";
import type { CentralContext } from "../context.ts";
import { pruneRound, type RoundOptions } from "./prune-round.ts";

/**
 * Runs a retention round at start and then every PRUNE_INTERVAL_SECONDS, so processed_messages
 * and commands stay bounded by their windows (docs/operations.md#retention). Every instance runs
 * it; the per-table advisory lock leaves each round to one of them. A failed round is logged and
 * retried at the next interval: pruning late costs disk, never correctness. Stopping lets the
 * batch in flight commit and starts no new batch or round.
 */
export function startRetentionJob(ctx: CentralContext, options: Omit<RoundOptions, "signal"> & { intervalMs?: number } = {}): PeriodicJob {
  const intervalMs = options.intervalMs ?? ctx.config.PRUNE_INTERVAL_SECONDS * 1000;
  return startPeriodicJob(
    async (signal) => void (await pruneRound(ctx, { ...options, signal })),
    intervalMs,
    (error) => ctx.log.error({ err: error }, "Retention prune failed; will retry"),
  );
}

import { delay } from "../../platform/backoff.ts";
import type { CentralContext } from "../context.ts";
import { pruneRound, type RoundOptions } from "./prune-round.ts";

/**
 * Runs a retention round at start and then every PRUNE_INTERVAL_SECONDS, so processed_messages
 * and commands stay bounded by their windows (docs/operations.md#retention). Every instance runs
 * it; the per-table advisory lock leaves each round to one of them. A failed round is logged and
 * retried at the next interval: pruning late costs disk, never correctness.
 */
export function startRetentionJob(ctx: CentralContext, options: Omit<RoundOptions, "signal"> & { intervalMs?: number } = {}): { stop(): Promise<void> } {
  const abort = new AbortController();
  const intervalMs = options.intervalMs ?? ctx.config.PRUNE_INTERVAL_SECONDS * 1000;
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await pruneRound(ctx, { ...options, signal: abort.signal });
      } catch (error) {
        if (abort.signal.aborted) break;
        ctx.log.error({ err: error }, "Retention prune failed; will retry");
      }
      await delay(intervalMs, abort.signal);
    }
  })();
  return {
    /** Graceful: the batch in flight commits, no new batch or round starts. */
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

import { startPeriodicJob, type PeriodicJob } from "../../platform/periodic-job.ts";
import type { LifecycleRunner } from "./deps.ts";
import { expireDue } from "./intents/expire.ts";

/** Runs the expiry rollback every `sweepMs` (EXPIRY_SWEEP_MS), so no reservation outlives its expiry by more. */
export function startExpirySweeper(deps: LifecycleRunner, sweepMs: number): PeriodicJob {
  return startPeriodicJob(
    async (signal) => {
      // A sweep expires in bounded rounds; keep going while rounds find work.
      while ((await expireDue(deps)) > 0 && !signal.aborted) {}
    },
    sweepMs,
    (error) => deps.log.error({ err: error }, "Expiry sweep failed; will retry"),
  );
}

import { delay } from "../../platform/backoff.ts";
import type { LifecycleRunner } from "./deps.ts";
import { expireDue } from "./intents/expire.ts";

/** Runs the expiry rollback every `sweepMs` (EXPIRY_SWEEP_MS), so no reservation outlives its expiry by more. */
export function startExpirySweeper(deps: LifecycleRunner, sweepMs: number): { stop(): Promise<void> } {
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        while ((await expireDue(deps)) > 0 && !abort.signal.aborted) {}
      } catch (error) {
        deps.log.error({ err: error }, "Expiry sweep failed; will retry");
      }
      await delay(sweepMs, abort.signal);
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

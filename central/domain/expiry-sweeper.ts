import { delay } from "../../platform/backoff.ts";
import type { CentralContext } from "../context.ts";
import { expireDueReservations } from "./expire-reservations.ts";

/** Runs the expiry rollback every EXPIRY_SWEEP_MS, so no reservation outlives its expiry by more. */
export function startExpirySweeper(ctx: CentralContext): { stop(): Promise<void> } {
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        while ((await expireDueReservations(ctx)) > 0 && !abort.signal.aborted) {}
      } catch (error) {
        ctx.log.error({ err: error }, "Expiry sweep failed; will retry");
      }
      await delay(ctx.config.EXPIRY_SWEEP_MS, abort.signal);
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

import { delay } from "./backoff.ts";

export interface PeriodicJob {
  /** Graceful: the run in flight finishes (it sees `signal` aborted), no new run starts. */
  stop(): Promise<void>;
}

/**
 * Runs `run` at once and then `intervalMs` after each run ends, until stopped. A failed run is
 * reported and the next one comes at the usual time: background jobs (expiry, retention) retry by
 * running again, never by spinning.
 */
export function startPeriodicJob(
  run: (signal: AbortSignal) => Promise<void>,
  intervalMs: number,
  onError: (error: unknown) => void,
): PeriodicJob {
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await run(abort.signal);
      } catch (error) {
        if (abort.signal.aborted) break;
        onError(error);
      }
      await delay(intervalMs, abort.signal);
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

import type { Logger } from "./logger.ts";

/**
 * A warning that floods would repeat thousands of times a second (e.g. refused connections):
 * logged at most once per interval, with how many were left out since the last line. Counting
 * every occurrence is for a metric.
 */
export function throttledWarning(log: Logger, message: string, intervalMs = 10_000, now: () => number = Date.now) {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return {
    note(fields: Record<string, unknown>): void {
      const t = now();
      if (t - last < intervalMs) {
        suppressed += 1;
        return;
      }
      log.warn({ ...fields, suppressedSinceLastLine: suppressed }, message);
      last = t;
      suppressed = 0;
    },
  };
}

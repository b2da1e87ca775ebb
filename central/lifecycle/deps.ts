import type { CentralContext } from "../context.ts";

/**
 * What the lifecycle needs from Central, and no more: a narrow slice of CentralContext (which
 * satisfies it structurally), so the intents' dependencies are visible at a glance.
 */
export type LifecycleDeps = Pick<CentralContext, "log" | "clock"> & {
  metrics: Pick<CentralContext["metrics"], "reservations" | "expired" | "lateStarts" | "rejectedStarts" | "conflicts">;
  config: Pick<CentralContext["config"], "RESERVATION_TTL_SECONDS" | "CLOCK_SKEW_TOLERANCE_SECONDS">;
};

/** Intents called from the API or the sweeper also open their own transaction and wake the outbox. */
export type LifecycleRunner = LifecycleDeps & Pick<CentralContext, "db" | "notifyOutbox">;

export function nowDate(deps: Pick<LifecycleDeps, "clock">): Date {
  return new Date(deps.clock.now());
}

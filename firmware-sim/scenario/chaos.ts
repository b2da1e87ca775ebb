import type { FleetCharger as SimCharger } from "../charger.ts";
import type { Fleet as AnyFleet } from "../fleet.ts";

type Fleet = AnyFleet<SimCharger>;
import type { Rng } from "./random.ts";
import type { Scenario } from "./schema.ts";

export interface ChaosStats {
  faults: number;
  networkDrops: number;
  /** Events due when no charger was eligible (all already faulted or offline). */
  skipped: number;
}

export interface Chaos {
  stats(): ChaosStats;
  /** No new events; resolves once every injected fault is cleared and every outage is over. */
  finish(): Promise<void>;
}

/**
 * The charger side of a scenario, on simulated chargers only: faults and network outages at
 * random chargers, as Poisson processes across the fleet. A charger is hit by one event at a
 * time, so a fault's clearance never lands on a charger that is also mid-outage by surprise.
 */
export function startChaos(fleet: Fleet, scenario: Scenario, rng: Rng): Chaos {
  const stats: ChaosStats = { faults: 0, networkDrops: 0, skipped: 0 };
  const busy = new Set<string>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const pending = new Set<Promise<void>>();
  let stopped = false;

  const eligible = (): SimCharger[] => [...fleet.chargers.values()].filter((c) => c.connected && c.status !== "faulted" && !busy.has(c.cpId));

  /** Runs `hit` on a random eligible charger, keeps it busy for `ms`, then runs `heal`. */
  const strike = (ms: number, hit: (c: SimCharger) => boolean, heal: (c: SimCharger) => void): void => {
    const charger = rng.pick(eligible());
    if (!charger || !hit(charger)) {
      stats.skipped += 1;
      return;
    }
    busy.add(charger.cpId);
    pending.add(
      new Promise<void>((resolve) => {
        setTimeout(() => {
          heal(charger);
          busy.delete(charger.cpId);
          resolve();
        }, ms);
      }),
    );
  };

  const schedule = (perMinute: number, fire: () => void) => {
    const arm = () => {
      const wait = rng.nextArrivalMs(perMinute);
      if (stopped || !Number.isFinite(wait)) return;
      const t = setTimeout(() => {
        timers.delete(t);
        if (stopped) return;
        fire();
        arm();
      }, wait);
      timers.add(t);
    };
    arm();
  };

  const { faults, networkDrops } = scenario;
  if (faults && faults.perMinute > 0) {
    schedule(faults.perMinute, () =>
      strike(
        rng.uniform(faults.durationSeconds) * 1000,
        (c) => {
          c.fault("SIM_INJECTED", "Fault injected by the scenario");
          stats.faults += 1;
          return true;
        },
        (c) => c.clearFault(),
      ),
    );
  }
  if (networkDrops && networkDrops.perMinute > 0) {
    schedule(networkDrops.perMinute, () => {
      const ms = rng.uniform(networkDrops.durationSeconds) * 1000;
      strike(
        ms,
        (c) => {
          const cut = c.goOffline(ms);
          if (cut) stats.networkDrops += 1;
          return cut;
        },
        () => {}, // the charger's reconnect timer ends the outage by itself
      );
    });
  }

  return {
    stats: () => ({ ...stats }),
    async finish() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all(pending);
    },
  };
}

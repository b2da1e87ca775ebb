import type { FleetOptions } from "../fleet.ts";
import type { EvProfile } from "../power-curve.ts";
import type { Rng } from "./random.ts";
import type { Scenario } from "./schema.ts";

/**
 * The charger half of a scenario as fleet options: each charger draws its clock skew once (a
 * clock is off by a steady amount), and each session draws a new car, because every driver
 * brings a different one.
 */
export function fleetOptionsFor(scenario: Scenario, rng: Rng): Omit<FleetOptions, "url" | "chargers"> {
  const c = scenario.chargers;
  const ev = (): Partial<EvProfile> => ({
    batteryWh: rng.uniform(c.ev.batteryKWh) * 1000,
    initialSoc: rng.uniform(c.ev.initialSoc),
    targetSoc: rng.uniform(c.ev.targetSoc),
    rampMs: rng.uniform(c.ev.rampSeconds) * 1000,
    taperFromSoc: rng.uniform(c.ev.taperFromSoc),
    ...(c.ev.maxPowerW ? { maxPowerW: rng.uniform(c.ev.maxPowerW) } : {}),
  });
  return {
    meterMs: c.meterMs,
    heartbeatMs: c.heartbeatMs,
    powerW: c.powerW,
    bufferSize: c.bufferSize,
    stopWhenFull: c.stopWhenFull,
    ev,
    perCharger: () => ({ clockSkewMs: Math.round(rng.uniform(c.clockSkewMs)) }),
  };
}

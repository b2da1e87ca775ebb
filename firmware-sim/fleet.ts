import type { ChargerCredentials } from "./provision.ts";
import { SimCharger, type SimChargerOptions } from "./sim-charger.ts";

export type FleetOptions = Omit<SimChargerOptions, "cpId" | "password"> & { chargers: ChargerCredentials[] };

export interface Fleet {
  chargers: Map<string, SimCharger>;
  stop(): Promise<void>;
}

/** Starts every charger and resolves once each has connected at least once. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const { chargers: creds, ...common } = options;
  const chargers = new Map(creds.map((c) => [c.cpId, new SimCharger({ ...common, cpId: c.cpId, password: c.password })]));
  await Promise.all([...chargers.values()].map((c) => c.start()));
  return {
    chargers,
    async stop() {
      await Promise.all([...chargers.values()].map((c) => c.stop()));
    },
  };
}

export function simCpIds(count: number, prefix = "sim-cp"): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(3, "0")}`);
}

import type { ChargerStatus } from "../protocol/index.ts";
import type { FleetCharger } from "./charger.ts";
import { inBatches } from "./batches.ts";
import type { ChargerCredentials } from "./provision.ts";
import { SimCharger, type SimChargerOptions } from "./sim-charger.ts";

export type FleetOptions = Omit<SimChargerOptions, "cpId" | "password"> & {
  chargers: ChargerCredentials[];
  /** Connections opened at once; a thousand simultaneous CONNECTs is a reconnect storm, not a start. */
  concurrency?: number;
  /** Per-charger settings on top of the common ones (clock skew, the car, …). */
  perCharger?: (cpId: string, index: number) => Partial<SimChargerOptions>;
  /** Called as each charger first connects: a thousand chargers behind a rate limit take minutes. */
  onConnected?: (connected: number, total: number) => void;
};

export interface FleetStats {
  chargers: number;
  connected: number;
  byStatus: Record<ChargerStatus, number>;
  produced: number;
  acked: number;
  buffered: number;
  dropped: number;
}

/** Simulated chargers of one transport: SimCharger (MQTT), or OCPP connectors (ocpp/ocpp-fleet.ts). */
export interface Fleet<C extends FleetCharger = SimCharger> {
  chargers: Map<string, C>;
  stats(): FleetStats;
  stop(): Promise<void>;
}

/** Starts every charger and resolves once each has connected at least once. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const { chargers: creds, concurrency = 100, perCharger, onConnected, ...common } = options;
  const chargers = new Map(
    creds.map((c, i) => [c.cpId, new SimCharger({ ...common, ...perCharger?.(c.cpId, i), cpId: c.cpId, password: c.password })]),
  );
  const fleet: Fleet = {
    chargers,
    stats: () => fleetStats(chargers.values()),
    async stop() {
      await inBatches([...chargers.values()], 500, (c) => c.stop());
    },
  };
  try {
    let connected = 0;
    await inBatches([...chargers.values()], concurrency, async (c) => {
      await c.start();
      onConnected?.(++connected, chargers.size);
    });
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet;
}

export function simCpIds(count: number, prefix = "sim-cp"): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(3, "0")}`);
}

export function fleetStats(chargers: Iterable<FleetCharger>): FleetStats {
  const s: FleetStats = {
    chargers: 0,
    connected: 0,
    byStatus: { available: 0, reserved: 0, charging: 0, faulted: 0, unavailable: 0 },
    produced: 0,
    acked: 0,
    buffered: 0,
    dropped: 0,
  };
  for (const c of chargers) {
    const cs = c.stats();
    s.chargers += 1;
    if (c.connected) s.connected += 1;
    s.byStatus[c.status] += 1;
    s.produced += cs.produced;
    s.acked += cs.acked;
    s.buffered += cs.buffer.size;
    for (const n of Object.values(cs.buffer.dropped)) s.dropped += n ?? 0;
  }
  return s;
}

import { inBatches } from "../batches.ts";
import { fleetStats, type Fleet, type FleetOptions } from "../fleet.ts";
import type { ChargerCredentials } from "../provision.ts";
import { connectorCpId, OcppCharger, type OcppChargerOptions } from "./ocpp-charger.ts";
import type { OcppConnector } from "./ocpp-connector.ts";

export type OcppFleetOptions = Omit<FleetOptions, "perCharger"> & {
  /** Connectors per box (default 1); connector N ≥ 2 of box X is charge point X-N, provisioned like any other. */
  connectors?: number;
  perCharger?: (cpId: string, index: number) => Partial<OcppChargerOptions>;
  callTimeoutMs?: number;
};

/** The charge point ids a fleet of `boxes` needs provisioned: each box and its connectors ≥ 2. */
export function ocppChargePointIds(boxes: string[], connectors = 1): string[] {
  return boxes.flatMap((box) => Array.from({ length: connectors }, (_, i) => connectorCpId(box, i + 1)));
}

/**
 * A fleet of OCPP 1.6J boxes. `chargers` are the boxes (the credentials a box authenticates
 * with are its connector 1's); the fleet's map holds every connector under its charge point id,
 * so scenarios, chaos and the HIL invariants treat each connector as one charge point.
 */
export async function startOcppFleet(options: OcppFleetOptions): Promise<Fleet<OcppConnector> & { boxes: OcppCharger[] }> {
  const { chargers: creds, concurrency = 100, perCharger, onConnected, connectors = 1, ...common } = options;
  const boxes = creds.map((c: ChargerCredentials, i) => new OcppCharger({ ...common, ...perCharger?.(c.cpId, i), connectors, cpId: c.cpId, password: c.password }));
  const chargers = new Map(boxes.flatMap((b) => b.connectors.map((c) => [c.cpId, c] as const)));
  const fleet = {
    boxes,
    chargers,
    stats: () => fleetStats(chargers.values()),
    async stop() {
      await inBatches(boxes, 500, (b) => b.stop());
    },
  };
  try {
    let connected = 0;
    await inBatches(boxes, concurrency, async (b) => {
      await b.start();
      onConnected?.(++connected, boxes.length);
    });
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet;
}

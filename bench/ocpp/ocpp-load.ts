/**
 * OCPP 1.6J load for bench/ocpp: ocpp-rpc RPCClients in NON-strict mode (schema checks on the
 * load generator would spend the cores the gateway needs; the gateway validates as it ships, in
 * strict mode). Each box boots, starts a transaction on the reservation seeded for it
 * (seed.ts), then sends MeterValues in a closed loop: the next CALL only once the CALLRESULT
 * of the previous one is back, as OCPP-J §4.1.1 allows one outstanding CALL per direction.
 */
import { RPCClient } from "ocpp-rpc";
import { inBatches } from "../../firmware-sim/batches.ts";
import type { SeededBox } from "./seed.ts";

export interface OcppBox {
  seed: SeededBox;
  client: RPCClient;
  txId?: number;
  seq: number;
}

export function connectBox(url: string, seed: SeededBox, password: string): Promise<OcppBox> {
  const client = new RPCClient({
    endpoint: url,
    identity: seed.cpId,
    password,
    protocols: ["ocpp1.6"],
    strictMode: false,
    reconnect: false,
    callTimeoutMs: 60_000,
    // ocpp-rpc's typings mark every option required; the rest keep the library's defaults.
  } as unknown as ConstructorParameters<typeof RPCClient>[0]);
  return client.connect().then(() => ({ seed, client, seq: 0 }));
}

/** Connects, boots and (when the box has a reservation) starts its transaction; `concurrency` at a time. */
export async function connectBoxes(url: string, seeds: SeededBox[], password: string, concurrency = 100): Promise<OcppBox[]> {
  const boxes: OcppBox[] = [];
  await inBatches(seeds, concurrency, async (seed) => {
    const box = await connectBox(url, seed, password);
    await box.client.call("BootNotification", { chargePointVendor: "ChargeBridge", chargePointModel: "bench-ocpp" });
    if (seed.reservation) {
      const conf = (await box.client.call("StartTransaction", {
        connectorId: 1,
        idTag: seed.reservation.idTag,
        meterStart: 0,
        timestamp: new Date().toISOString(),
        reservationId: seed.reservation.ocppId,
      })) as { transactionId: number; idTagInfo: { status: string } };
      if (conf.idTagInfo.status !== "Accepted") throw new Error(`${seed.cpId}: StartTransaction answered ${conf.idTagInfo.status}, not Accepted`);
      box.txId = conf.transactionId;
    }
    boxes.push(box);
  });
  return boxes;
}

export async function closeBoxes(boxes: OcppBox[]): Promise<void> {
  await inBatches(boxes, 500, (b) => b.client.close({ code: 1000, force: true }).then(() => {}, () => {}));
}

/** One reading of the register (Wh) and the power, as a box mid-session sends it. */
export function meterValuesParams(box: OcppBox): Record<string, unknown> {
  box.seq += 1;
  return {
    connectorId: 1,
    transactionId: box.txId,
    meterValue: [
      {
        timestamp: new Date().toISOString(),
        sampledValue: [
          { value: String(10_000 + box.seq), measurand: "Energy.Active.Import.Register", unit: "Wh", context: "Sample.Periodic" },
          { value: "11000", measurand: "Power.Active.Import", unit: "W", context: "Sample.Periodic" },
        ],
      },
    ],
  };
}

export interface OcppClosedLoad {
  acked(): number;
  stop(): Promise<void>;
}

/** Every box keeps exactly one MeterValues outstanding until stopped; `onAck` hears each CALLRESULT's latency. */
export function startOcppClosedLoad(boxes: OcppBox[], onAck?: (ms: number) => void): OcppClosedLoad {
  let acked = 0;
  let running = true;
  let failure: unknown;
  const loops = boxes.map(async (b) => {
    while (running && failure === undefined) {
      const at = performance.now();
      try {
        await b.client.call("MeterValues", meterValuesParams(b));
        acked += 1;
        onAck?.(performance.now() - at);
      } catch (error) {
        failure = error;
      }
    }
  });
  return {
    acked: () => acked,
    async stop() {
      running = false;
      await Promise.all(loops);
      if (failure !== undefined) throw failure;
    },
  };
}

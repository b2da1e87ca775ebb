/**
 * The chargers of the gateway bench: N MQTT 3.1.1 clients publishing meter values at QoS 1, either
 * closed-loop (each keeps a fixed number of publishes in flight: finds the maximum rate) or
 * open-loop at a fixed rate (measures PUBACK latency without coordinated omission: a message's
 * latency is taken from when it was *due*, so a stalled broker cannot hide by slowing the sender).
 * The same clients and messages go to the real gateway and to the naive bridge.
 */
import mqtt, { type MqttClient } from "mqtt";
import { percentile } from "./kit.ts";

export interface Charger {
  cpId: string;
  client: MqttClient;
  seq: number;
}

export async function connectChargers(url: string, cpIds: string[], password: string): Promise<Charger[]> {
  return Promise.all(
    cpIds.map(
      (cpId) =>
        new Promise<Charger>((resolve, reject) => {
          // clean=false as real chargers connect (docs/protocol.md); no reconnects: a drop is a bench failure.
          const client = mqtt.connect(url, { clientId: cpId, username: cpId, password, clean: false, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 30_000 });
          client.once("connect", () => resolve({ cpId, client, seq: 0 }));
          client.once("error", (error) => reject(new Error(`${cpId}: ${error.message}`)));
        }),
    ),
  );
}

export async function disconnect(chargers: Charger[]): Promise<void> {
  await Promise.all(chargers.map((c) => c.client.endAsync(true).catch(() => {})));
}

/** A meter value as a charging charger sends it (~130 bytes; the gateway's Kafka record is ~300). */
export function meterPayload(seq: number): string {
  return JSON.stringify({ id: `m${seq}`, ts: new Date().toISOString(), reservationId: "res_bench_0123456789abcdef", energyWh: 10_000 + seq, powerW: 11_000 });
}

function publish(c: Charger, cb: (error?: Error) => void): void {
  c.seq += 1;
  c.client.publish(`chargebridge/v1/${c.cpId}/up/meter`, meterPayload(c.seq), { qos: 1 }, (error) => cb(error ?? undefined));
}

export interface ClosedLoad {
  /** PUBACKs received so far. */
  acked(): number;
  /** Stops publishing and waits for the publishes in flight to be acknowledged. */
  stop(): Promise<void>;
  /** Resolves once `total` publishes were sent and acknowledged (never, for an endless load). */
  finished(): Promise<void>;
}

/**
 * Every charger keeps `inflight` publishes outstanding until stopped, or until `total` were sent.
 * `onAck` hears each PUBACK's latency (ms since its publish; bench/ocpp reports closed-loop p50/p99).
 */
export function startClosedLoad(chargers: Charger[], inflight: number, total = Infinity, onAck?: (ms: number) => void): ClosedLoad {
  let acked = 0;
  let sent = 0;
  let running = true;
  let failure: Error | undefined;
  const loops = chargers.flatMap((c) =>
    Array.from({ length: inflight }, async () => {
      while (running && sent < total && !failure) {
        sent += 1;
        const at = performance.now();
        await new Promise<void>((resolve) =>
          publish(c, (error) => {
            if (error) failure = error;
            else (acked += 1), onAck?.(performance.now() - at);
            resolve();
          }),
        );
      }
    }),
  );
  const done = Promise.all(loops);
  const finished = async () => {
    await done;
    if (failure) throw failure;
  };
  return {
    acked: () => acked,
    stop() {
      running = false;
      return finished();
    },
    finished,
  };
}

/** Publishes exactly `total` messages (spread over the chargers) and resolves when all are acked. */
export async function publishTotal(chargers: Charger[], total: number, inflight: number): Promise<void> {
  await startClosedLoad(chargers, inflight, total).finished();
}

export interface OpenLoopResult {
  rate: number;
  sent: number;
  /** PUBACK latency in ms (ack time minus due time) of messages due after the warm-up. */
  p50: number;
  p99: number;
  max: number;
  /** How far the sender itself fell behind its schedule at worst (ms): large means the load generator saturated. */
  senderLagMs: number;
}

/** `rate` messages/s in total, round-robin over the chargers, for `seconds`; the first `warmup` s are not timed. */
export async function openLoop(chargers: Charger[], rate: number, seconds: number, warmup = 1): Promise<OpenLoopResult> {
  const latencies: number[] = [];
  const start = performance.now();
  const total = Math.floor(rate * seconds);
  let sent = 0;
  let acked = 0;
  let senderLagMs = 0;
  let failure: Error | undefined;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
      if (sent < due) senderLagMs = Math.max(senderLagMs, now - (start + ((sent + 1) * 1000) / rate));
      while (sent < due) {
        const dueAt = start + (sent * 1000) / rate;
        const timed = dueAt - start >= warmup * 1000;
        publish(chargers[sent % chargers.length]!, (error) => {
          if (error) failure = error;
          else if (timed) latencies.push(performance.now() - dueAt);
          acked += 1;
        });
        sent += 1;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const deadline = performance.now() + 60_000;
  while (acked < sent && performance.now() < deadline && !failure) await new Promise((r) => setTimeout(r, 10));
  if (failure) throw failure;
  if (acked < sent) throw new Error(`open loop: ${sent - acked} of ${sent} publishes never acknowledged`);
  latencies.sort((a, b) => a - b);
  return { rate, sent, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN, senderLagMs };
}

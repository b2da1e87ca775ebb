/**
 * The simulated fleet for bench/fleet/run.ts, in a process of its own: 5000 MQTT clients keep
 * an event loop busy, and that must not be the loop that measures. Driven over IPC:
 *   {cmd:"connect", …} -> {type:"connected", ms}
 *   {cmd:"sessions"}   -> every charger starts a session at a random moment within one meter
 *                         interval, so meter values arrive spread out as from a real fleet;
 *                         -> {type:"sessions-started"}
 *   {cmd:"stats"}      -> {type:"stats", …FleetStats}
 *   {cmd:"stop", purge} -> disconnects; `purge` also clears the persistent sessions the fleet
 *                         left on a shared broker; -> {type:"stopped"}
 */
import mqtt from "mqtt";
import { inBatches } from "../../firmware-sim/batches.ts";
import { simCpIds, startFleet, type Fleet } from "../../firmware-sim/fleet.ts";

interface ConnectCmd {
  cmd: "connect";
  url: string;
  count: number;
  prefix: string;
  password: string;
  meterMs: number;
  heartbeatMs: number;
  concurrency: number;
}

let fleet: Fleet | undefined;
let cpIds: string[] = [];
let url = "";
let meterMs = 10_000;

process.on("message", (m: { cmd: string } & Partial<ConnectCmd> & { purge?: boolean }) => {
  void handle(m).catch((error: unknown) => {
    process.send!({ type: "error", message: String((error as Error)?.stack ?? error) });
  });
});

async function handle(m: { cmd: string } & Partial<ConnectCmd> & { purge?: boolean }): Promise<void> {
  if (m.cmd === "connect") {
    const c = m as ConnectCmd;
    url = c.url;
    meterMs = c.meterMs;
    cpIds = simCpIds(c.count, c.prefix);
    const started = Date.now();
    fleet = await startFleet({
      url: c.url,
      chargers: cpIds.map((cpId) => ({ cpId, password: c.password })),
      meterMs: c.meterMs,
      heartbeatMs: c.heartbeatMs,
      concurrency: c.concurrency,
      // A big battery at low charge: no session fills up and ends inside the measurement.
      ev: { batteryWh: 100_000, initialSoc: 0.1, rampMs: 5_000 },
    });
    process.send!({ type: "connected", ms: Date.now() - started });
  } else if (m.cmd === "sessions") {
    for (const c of fleet!.chargers.values()) setTimeout(() => c.beginSession(`bench-${c.cpId}`), Math.random() * meterMs);
    setTimeout(() => process.send!({ type: "sessions-started" }), meterMs);
  } else if (m.cmd === "stats") {
    process.send!({ type: "stats", ...fleet!.stats() });
  } else if (m.cmd === "stop") {
    await fleet?.stop();
    if (m.purge) await purge();
    process.send!({ type: "stopped" });
    setTimeout(() => process.exit(0), 100);
  }
}

/** clean=true on connect makes the broker discard the session (MQTT-3.1.2-6): nothing is left behind. */
async function purge(): Promise<void> {
  await inBatches(cpIds, 200, async (cpId) => {
    const client = mqtt.connect(url, { clientId: cpId, username: cpId, password: "purge", clean: true, protocolVersion: 4, reconnectPeriod: 0 });
    await new Promise<void>((resolve) => {
      client.once("connect", () => resolve());
      client.once("error", () => resolve());
      client.once("close", () => resolve());
    });
    await client.endAsync(true);
  });
}

/**
 * OCPP bench (issue 11): OCPP 1.6J on the real gateway process (gateway/main.ts, strict mode as
 * it ships) with the MQTT path of the SAME gateway, in the same run, as the baseline. Kafka is a
 * private broker (bench/gateway/kit.ts), the production path: the gateway forwards to it.
 *
 *   node --import tsx bench/ocpp/run.ts [--clients 50] [--seconds 8] [--warmup 2] [--rounds 2]
 *        [--connections 5000] [--workers 2] [--mem-order ocpp,mqtt] [--stages tp,mem] [--out FILE]
 *        [--mem-gateway fresh|same] [--paths ocpp,mqtt] [--profile DIR]
 *
 * 1. Throughput: `clients` OCPP boxes, each in a seeded transaction (seed.ts), send MeterValues
 *    with one CALL outstanding (OCPP-J §4.1.1); beside them as many MQTT clients publish the
 *    equivalent `meter` at QoS 1 with one publish outstanding. Both answers come only after the
 *    fsync. Windows alternate OCPP/MQTT; per window: answers/s, Kafka-acked/s (messages_out),
 *    answer latency p50/p99 (closed loop, from the call to its answer), CPU from /proc.
 * 2. Memory: `connections` idle OCPP boxes after BootNotification (ocpp-worker.ts, `workers`
 *    processes), and as many idle MQTT chargers (bench/fleet/fleet-worker.ts), each set on a
 *    fresh gateway process (`--mem-gateway same`: added in turn to the throughput gateway);
 *    its RSS (mean over 3 s) and V8's used heap, both after a forced full GC (inspector-gc.ts),
 *    before and after the set → KB per connection.
 * 3. Diagnostic: strict-mode schema validation per MeterValues, timed in this process (strict-cost.ts).
 * `--profile DIR` profiles the gateway's CPU in each throughput window through its inspector,
 * saves the .cpuprofile files in DIR and prints where the CPU went (profile-summary.ts).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { simCpIds } from "../../firmware-sim/fleet.ts";
import { startProcess, type RunningProcess } from "../../tests/support/processes.ts";
import { waitFor } from "../../tests/support/wait.ts";
import { watchRss } from "../fleet/proc-stats.ts";
import { cpuMeter, fmt, freePort, median, percentile, sleep, startPrivateKafka, type PrivateKafka } from "../gateway/kit.ts";
import { connectChargers, disconnect, publishTotal, startClosedLoad } from "../gateway/load.ts";
import { closeBoxes, connectBoxes, startOcppClosedLoad } from "./ocpp-load.ts";
import { cpuPerMessage, memoryTable, throughputTable, type MemoryResult, type WindowResult } from "./report.ts";
import { collectGarbage, profiled } from "./inspector.ts";
import { summarise } from "./profile-summary.ts";
import { seedBoxes, seedDataDir, type SeededBox } from "./seed.ts";
import { strictMicrosPerCall } from "./strict-cost.ts";

const { values: a } = parseArgs({
  options: {
    clients: { type: "string", default: "50" },
    seconds: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "5000" },
    workers: { type: "string", default: "2" },
    "mem-order": { type: "string", default: "ocpp,mqtt" },
    "mem-gateway": { type: "string", default: "fresh" },
    stages: { type: "string", default: "tp,mem" },
    out: { type: "string" },
    paths: { type: "string", default: "ocpp,mqtt" },
    profile: { type: "string" },
  },
});
const o = { clients: Number(a.clients), seconds: Number(a.seconds), warmup: Number(a.warmup), rounds: Number(a.rounds), connections: Number(a.connections), workers: Number(a.workers) };
const stages = new Set(a.stages!.split(","));
const paths = new Set(a.paths!.split(","));
const run = crypto.randomUUID().slice(0, 6);
const PASSWORD = "ocppbench-secret-not-for-production";
const here = new URL(".", import.meta.url).pathname;
const topics = { KAFKA_TOPIC_EVENTS: `ocppbench-${run}.events`, KAFKA_TOPIC_COMMANDS: `ocppbench-${run}.commands`, KAFKA_TOPIC_DLQ: `ocppbench-${run}.dlq`, KAFKA_TOPIC_CREDENTIALS: `ocppbench-${run}.credentials` };
const ids = {
  tpOcpp: simCpIds(o.clients, "ob-tp-ocpp"),
  tpMqtt: simCpIds(o.clients, "ob-tp-mqtt"),
  memOcpp: simCpIds(o.connections, "ob-mem-ocpp"),
  memMqtt: simCpIds(o.connections, "ob-mem-mqtt"),
};
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");

interface Gw {
  proc: RunningProcess;
  http: string;
  mqtt: string;
  ocpp: string;
}

async function metric(gw: Gw, name: string): Promise<number> {
  const text = await fetch(`${gw.http}/metrics`).then((r) => r.text());
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
}

async function queue(gw: Gw): Promise<{ depth: number; commits: number; committedEntries: number }> {
  return ((await (await fetch(`${gw.http}/healthz`)).json()) as { queue: { depth: number; commits: number; committedEntries: number } }).queue;
}

async function transports(gw: Gw): Promise<{ mqtt: number; ocpp: number }> {
  return ((await (await fetch(`${gw.http}/healthz`)).json()) as { chargersByTransport: { mqtt: number; ocpp: number } }).chargersByTransport;
}

/** One closed-loop window: warm-up, then `seconds` measured; latencies only from inside the window. */
async function window(gw: Gw, pids: Record<string, number | undefined>, start: (onAck: (ms: number) => void) => { acked(): number; stop(): Promise<void> }): Promise<WindowResult> {
  const latencies: number[] = [];
  let timing = false;
  const l = start((ms) => timing && latencies.push(ms));
  await sleep(o.warmup * 1000);
  const [out0, q0, a0] = [await metric(gw, "chargebridge_gateway_messages_out_total"), await queue(gw), l.acked()];
  const t0 = performance.now();
  const cpu = cpuMeter(pids);
  timing = true;
  await sleep(o.seconds * 1000);
  timing = false;
  const cpuShares = cpu();
  const [out1, q1, a1] = [await metric(gw, "chargebridge_gateway_messages_out_total"), await queue(gw), l.acked()];
  const secs = (performance.now() - t0) / 1000;
  await l.stop();
  latencies.sort((x, y) => x - y);
  return {
    answersPerSecond: (a1 - a0) / secs,
    kafkaPerSecond: (out1 - out0) / secs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    appendsPerFsync: (q1.committedEntries - q0.committedEntries) / Math.max(1, q1.commits - q0.commits),
    cpu: cpuShares,
  };
}

function once<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from child ${child.pid} within ${timeoutMs} ms`)), timeoutMs);
    child.on("message", (m: { type: string; message?: string }) => {
      if (m.type === "error") reject(new Error(m.message));
      if (m.type === type) clearTimeout(timer), resolve(m as T);
    });
    child.once("exit", (code) => reject(new Error(`child ${child.pid} exited (${code}) before '${type}'`)));
  });
}

async function settledMemory(gw: Gw): Promise<{ rss: number; heap: number }> {
  await sleep(2_000); // connects' stragglers (boot events, fsyncs) finish first
  await collectGarbage(gw.proc.output);
  const w = watchRss(gw.proc.child.pid!, 250);
  await sleep(3_000);
  return { rss: w.stop().meanBytes, heap: await metric(gw, "nodejs_heap_size_used_bytes") };
}

/** Adds one idle set of `connections` of a transport to the gateway; returns its memory delta. */
async function addIdleSet(gw: Gw, transport: string, workers: ChildProcess[]): Promise<MemoryResult> {
  const before = await settledMemory(gw);
  const started = performance.now();
  const tsx = { execArgv: ["--import", "tsx"], env: { ...process.env, LOG_LEVEL: "warn" } };
  if (transport === "ocpp") {
    const per = Math.ceil(o.connections / o.workers);
    const parts = Array.from({ length: o.workers }, (_, i) => ids.memOcpp.slice(i * per, (i + 1) * per));
    await Promise.all(parts.map(async (cpIds) => {
      const w = fork(join(here, "ocpp-worker.ts"), [], tsx);
      workers.push(w);
      const done = once(w, "connected", 600_000);
      w.send({ cmd: "connect", url: gw.ocpp, cpIds, password: PASSWORD, concurrency: 100 });
      await done;
    }));
  } else {
    const w = fork(join(here, "../fleet/fleet-worker.ts"), [], tsx);
    workers.push(w);
    const done = once(w, "connected", 600_000);
    w.send({ cmd: "connect", url: gw.mqtt, count: o.connections, prefix: "ob-mem-mqtt", password: PASSWORD, meterMs: 3_600_000, heartbeatMs: 3_600_000, concurrency: 200 });
    await done;
  }
  const connectSeconds = (performance.now() - started) / 1000;
  await waitFor(async () => (await transports(gw))[transport as "mqtt" | "ocpp"] >= o.connections, { timeoutMs: 60_000, what: `${o.connections} ${transport} connections at the gateway` });
  const after = await settledMemory(gw);
  return { transport, connections: o.connections, connectSeconds, rssBeforeBytes: before.rss, rssAfterBytes: after.rss, heapBeforeBytes: before.heap, heapAfterBytes: after.heap };
}

/** gateway/main.ts as it ships, on its own seeded data dir (removed when it stops). */
async function startGateway(kafka: PrivateKafka, label: string, boxes: SeededBox[]): Promise<Gw & { stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-bench-ocpp-"));
  await seedDataDir(dataDir, PASSWORD, [...ids.tpOcpp, ...ids.tpMqtt, ...ids.memOcpp, ...ids.memMqtt], boxes);
  const [mqttPort, ocppPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const proc = startProcess("gateway/main.ts", {
    ...topics,
    KAFKA_BROKERS: kafka.brokers.join(","),
    MQTT_PORT: String(mqttPort),
    OCPP_PORT: String(ocppPort),
    MQTT_HOST: "127.0.0.1",
    GATEWAY_HTTP_PORT: String(httpPort),
    DATA_DIR: dataDir,
    GATEWAY_ID: `ocppbench-${run}-${label}`,
    LOG_LEVEL: "warn",
    // Thousands of connections from one address: neither limiter is what is measured.
    MQTT_CONNECT_RATE_PER_MINUTE: "0",
    MQTT_MAX_CONNECTIONS: "0",
    OCPP_HEARTBEAT_SECONDS: "3600",
    // The inspector lets the bench force a GC before reading memory and profile one window (inspector.ts).
    NODE_OPTIONS: "--inspect=127.0.0.1:0",
  }, `gateway-${label}`);
  const http = `http://127.0.0.1:${httpPort}`;
  try {
    await waitFor(() => fetch(`${http}/readyz`).then((r) => r.ok, () => false), { timeoutMs: 60_000, what: "gateway /readyz" });
  } catch (error) {
    await proc.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${String(error)}; gateway output: ${proc.output.join("").slice(-2_000)}`);
  }
  return {
    proc,
    http,
    mqtt: `mqtt://127.0.0.1:${mqttPort}`,
    ocpp: `ws://127.0.0.1:${ocppPort}/ocpp`,
    async stop() {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  console.log(`ocpp bench ${run}: ${o.clients} clients, windows ${o.warmup}+${o.seconds} s, ${o.rounds} round(s), ${o.connections} idle connections; load average ${load()}; starting a private Kafka...`);
  const kafka = await startPrivateKafka();
  const cleanup: (() => Promise<unknown>)[] = [() => kafka.destroy()];
  process.once("SIGINT", () => void Promise.allSettled(cleanup.reverse().map((f) => f())).finally(() => process.exit(130)));
  const results: Record<string, unknown> = { run, options: o };
  try {
    const tpBoxes = seedBoxes(ids.tpOcpp, true);
    const gw = await startGateway(kafka, "tp", tpBoxes);
    cleanup.push(() => gw.stop());
    const proc = gw.proc;
    const pids = { gateway: proc.child.pid, kafka: kafka.pid(), loadgen: process.pid };

    if (stages.has("tp")) {
      const boxes = await connectBoxes(gw.ocpp, tpBoxes, PASSWORD, 25);
      const chargers = await connectChargers(gw.mqtt, ids.tpMqtt, PASSWORD);
      // Warm-up: JIT, topic creation, the producer's connections, the first segment file.
      const warm = startOcppClosedLoad(boxes);
      await publishTotal(chargers, 2_000, 1);
      await warm.stop();
      const ocpp: WindowResult[] = [];
      const profiles: string[] = [];
      const mqtt: WindowResult[] = [];
      for (let round = 1; round <= o.rounds; round++) {
        // Alternate which path goes first, so a drift in the machine's load does not favour one.
        const order = (round % 2 ? ["ocpp", "mqtt"] : ["mqtt", "ocpp"]).filter((p) => paths.has(p));
        for (const path of order) {
          const measure = () => path === "ocpp"
            ? window(gw, pids, (onAck) => startOcppClosedLoad(boxes, onAck))
            : window(gw, pids, (onAck) => startClosedLoad(chargers, 1, Infinity, onAck));
          let w: WindowResult;
          if (a.profile) {
            // The profiler costs the gateway CPU: a profiled window's figures are not the headline ones.
            const { result, profile } = await profiled(gw.proc.output, measure);
            w = result;
            await mkdir(a.profile, { recursive: true });
            await writeFile(join(a.profile, `gateway-${path}-round${round}.cpuprofile`), JSON.stringify(profile));
            profiles.push(summarise(profile, `gateway, ${path} window of round ${round} (${fmt(w.answersPerSecond)} answers/s)`));
          } else w = await measure();
          (path === "ocpp" ? ocpp : mqtt).push(w);
          console.log(`round ${round} ${path}: ${JSON.stringify(w)} (load average ${load()})`);
          await waitFor(async () => (await queue(gw)).depth === 0, { timeoutMs: 120_000, intervalMs: 50, what: "gateway queue to drain" });
        }
      }
      await closeBoxes(boxes);
      await disconnect(chargers);
      results.throughput = { ocpp, mqtt };
      const us = strictMicrosPerCall();
      const ocppRate = median(ocpp.map((w) => w.answersPerSecond));
      results.strict = { microsPerCall: us, coreShareAtMeasuredRate: (us * ocppRate) / 1e6 };
      console.log(`\nThroughput, ${o.clients} connections, one message outstanding on each (median over ${o.rounds} round(s), min–max in brackets):\n`);
      console.log(throughputTable([
        { label: `OCPP 1.6J MeterValues → CALLRESULT (gateway strict, client non-strict)`, windows: ocpp },
        { label: `MQTT QoS 1 meter → PUBACK (baseline, same gateway)`, windows: mqtt },
      ]));
      console.log(`\ngateway CPU per answered message, µs: OCPP ${cpuPerMessage(ocpp)}; MQTT ${cpuPerMessage(mqtt)}`);
      console.log(`strict-mode validation (MeterValues.req + .conf, ocpp-rpc's ajv validator, this process): ${fmt(us, 1)} µs per call, ` +
        `${fmt(((us * ocppRate) / 1e6) * 100, 1)} % of one core at ${fmt(ocppRate)} calls/s`);
      for (const p of profiles) console.log(`\n${p}`);
    }

    if (stages.has("mem")) {
      const mem: MemoryResult[] = [];
      for (const t of a["mem-order"]!.split(",")) {
        // fresh (default): each transport on a gateway process of its own, started like the
        // throughput one, so neither set lands in heap the other (or the throughput stage) left
        // free. same: both sets added in turn to the throughput stage's gateway.
        const target = a["mem-gateway"] === "same" ? gw : await startGateway(kafka, `mem-${t}`, []);
        const workers: ChildProcess[] = [];
        try {
          mem.push(await addIdleSet(target, t, workers));
        } finally {
          workers.forEach((w) => w.exitCode === null && w.kill("SIGKILL"));
          if (target !== gw) await target.stop();
        }
        console.log(`memory ${t}: ${JSON.stringify(mem.at(-1))} (load average ${load()})`);
      }
      results.memory = mem;
      const how = a["mem-gateway"] === "same" ? `added in turn (${a["mem-order"]}) to the throughput stage's gateway` : "each on a fresh gateway process";
      console.log(`\nMemory, ${o.connections} idle connections per transport, ${how}:\n`);
      console.log(memoryTable(mem));
    }
    console.log(`\nload average at the end: ${load()}`);
    if (a.out) await writeFile(a.out, JSON.stringify(results, null, 2));
  } finally {
    for (const f of cleanup.reverse()) await f().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
  }
}

await main();
process.exit(0);

/**
 * Fleet bench: N simulated chargers (firmware-sim) on ONE gateway process, then the same fleet on
 * the reference Mosquitto at 127.0.0.1:1883, in one run on the same machine.
 *
 *   node --import tsx bench/fleet/run.ts [--count 5000] [--seconds 60] [--warmup 15]
 *        [--meter-ms 10000] [--heartbeat-ms 30000] [--targets gateway,mosquitto]
 *        [--mosquitto mqtt://127.0.0.1:1883] [--concurrency 200] [--out results.json]
 *
 * Processes: the gateway under test (bench/fleet/gateway-host.ts: gateway/main.ts plus a consumer
 * on its in-process bus, because that bus never leaves the process; with KAFKA_BROKERS set it is
 * gateway/main.ts itself and this process consumes from Kafka), the fleet (fleet-worker.ts) and
 * this process, which only measures: /proc/<pid>/stat and /status of the broker, and the delay
 * from each meter value's `ts` to its arrival at the bus consumer (gateway) or at an MQTT
 * subscriber on chargebridge/v1/+/up/meter (Mosquitto).
 *
 * Chargers authenticate at the gateway with one low-iteration hash shared by all: the bench
 * measures holding connections and moving messages, not 5000 PBKDF2 checks at connect time.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { simCpIds } from "../../firmware-sim/fleet.ts";
import { delay } from "../../platform/backoff.ts";
import { createBus } from "../../platform/create-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import { loadTopicNames } from "../../platform/topic-config.ts";
import { LatencyRecorder, type LatencySummary } from "./latency.ts";
import { cpuPercent, sampleProc, watchRss } from "./proc-stats.ts";
import { formatTable, type TargetResult } from "./table.ts";

const { values: a } = parseArgs({
  options: {
    count: { type: "string", default: "5000" },
    seconds: { type: "string", default: "60" },
    warmup: { type: "string", default: "15" },
    "meter-ms": { type: "string", default: "10000" },
    "heartbeat-ms": { type: "string", default: "30000" },
    targets: { type: "string", default: "gateway,mosquitto" },
    mosquitto: { type: "string", default: "mqtt://127.0.0.1:1883" },
    concurrency: { type: "string", default: "200" },
    out: { type: "string" },
  },
});
const count = Number(a.count);
const seconds = Number(a.seconds);
const warmupMs = Number(a.warmup) * 1000;
const meterMs = Number(a["meter-ms"]);
const heartbeatMs = Number(a["heartbeat-ms"]);
const run = crypto.randomUUID().slice(0, 6);
const PASSWORD = "bench-secret-not-for-production";
const here = new URL(".", import.meta.url).pathname;
const repo = new URL("../../", import.meta.url).pathname;

function once<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from child ${child.pid} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type: string; message?: string }) => {
      if (m.type === "error") reject(new Error(m.message));
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(m as T);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`child ${child.pid} exited (${code}) before '${type}'`)));
  });
}

const tsx = { execArgv: ["--import", "tsx"], cwd: repo };

interface Broker {
  pid: number;
  url: string;
  purge: boolean;
  begin(): void;
  end(): Promise<{ latency: LatencySummary; consumer: string }>;
  stop(): Promise<void>;
}

/** The gateway under test, with a consumer that times meter values off its bus. */
async function startGateway(): Promise<Broker> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-bench-fleet-"));
  const hash = await hashSecret(PASSWORD, 1_000);
  await mkdir(join(dataDir, "gateway"), { recursive: true });
  await writeFile(join(dataDir, "gateway", "credentials.json"), JSON.stringify(Object.fromEntries(simCpIds(count, `bench-${run}-cp`).map((id) => [id, hash]))));
  // The whole fleet connects from 127.0.0.1: a per-address connect limit would measure the limiter.
  const env = {
    ...process.env,
    ...{ MQTT_PORT: "0", OCPP_PORT: "0", MQTT_HOST: "127.0.0.1", GATEWAY_HTTP_PORT: "0", DATA_DIR: dataDir, GATEWAY_ID: `bench-${run}`, LOG_LEVEL: "warn" },
    MQTT_CONNECT_RATE_PER_MINUTE: "0",
  };
  const cleanup = () => rm(dataDir, { recursive: true, force: true });
  if (!process.env.KAFKA_BROKERS) {
    const child = fork(join(here, "gateway-host.ts"), [], { ...tsx, env: { ...env, KAFKA_BROKERS: "" } });
    const { mqttPort } = await once<{ mqttPort: number }>(child, "ready", 60_000);
    return {
      pid: child.pid!,
      url: `mqtt://127.0.0.1:${mqttPort}`,
      purge: false,
      begin: () => child.send({ cmd: "begin" }),
      async end() {
        const reply = once<{ summary: LatencySummary }>(child, "latency", 30_000);
        child.send({ cmd: "end" });
        return { latency: (await reply).summary, consumer: "in-process bus consumer" };
      },
      async stop() {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
        await cleanup();
      },
    };
  }
  // Production shape: gateway/main.ts unchanged, events through Kafka to a consumer here.
  const child = spawn(process.execPath, ["--import", "tsx", "gateway/main.ts"], { cwd: repo, env: { ...env, LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "inherit"] });
  const mqttUrl = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const m = /"mqttUrl":"([^"]+)"[^\n]*"msg":"Gateway is running"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`gateway/main.ts exited (${code})`)));
  });
  const log = createLogger("bench", "warn");
  const bus = await createBus({ kafkaBrokers: process.env.KAFKA_BROKERS, clientId: `bench-${run}`, log });
  const latency = new LatencyRecorder();
  const sub = await bus.subscribe(loadTopicNames(process.env).events, { groupId: `bench-${run}` }, async (r) => {
    if (!r.value.includes('"type":"meter"')) return;
    const now = Date.now();
    const e = JSON.parse(r.value) as { type?: string; payload?: { ts?: unknown } };
    if (e.type === "meter") latency.recordTs(e.payload?.ts, now);
  });
  return {
    pid: child.pid!,
    url: mqttUrl,
    purge: false,
    begin: () => latency.begin(),
    end: async () => ({ latency: latency.end(), consumer: "Kafka consumer" }),
    async stop() {
      await sub.close();
      await bus.close();
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      await cleanup();
    },
  };
}

/** The reference broker already running here; a subscriber times our chargers' meter values. */
async function startMosquitto(): Promise<Broker> {
  const pid = Number(execFileSync("pgrep", ["-o", "mosquitto"], { encoding: "utf8" }).trim());
  const latency = new LatencyRecorder();
  const ours = `chargebridge/v1/bench-${run}-cp-`;
  const sub = mqtt.connect(a.mosquitto!, { clientId: `bench-${run}-subscriber`, clean: true, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => {
    sub.once("connect", () => resolve());
    sub.once("error", reject);
  });
  await sub.subscribeAsync("chargebridge/v1/+/up/meter", { qos: 1 });
  sub.on("message", (topic, payload) => {
    if (topic.startsWith(ours)) latency.recordPayload(payload);
  });
  return {
    pid,
    url: a.mosquitto!,
    purge: true,
    begin: () => latency.begin(),
    end: async () => ({ latency: latency.end(), consumer: "MQTT subscriber" }),
    stop: () => sub.endAsync(),
  };
}

async function measure(target: string): Promise<TargetResult> {
  const broker = target === "mosquitto" ? await startMosquitto() : await startGateway();
  const worker = fork(join(here, "fleet-worker.ts"), [], { ...tsx, env: { ...process.env, LOG_LEVEL: "warn" } });
  try {
    await delay(1_000);
    const baseline = sampleProc(broker.pid).rssBytes;
    process.stderr.write(`[${target}] connecting ${count} chargers to ${broker.url} …\n`);
    const connected = once<{ ms: number }>(worker, "connected", 600_000);
    worker.send({ cmd: "connect", url: broker.url, count, prefix: `bench-${run}-cp`, password: PASSWORD, meterMs, heartbeatMs, concurrency: Number(a.concurrency) });
    const { ms: connectMs } = await connected;
    const started = once(worker, "sessions-started", meterMs + 30_000);
    worker.send({ cmd: "sessions" });
    await started;
    process.stderr.write(`[${target}] connected in ${(connectMs / 1000).toFixed(1)} s; warming up ${warmupMs / 1000} s …\n`);
    await delay(warmupMs);

    const stats = async () => {
      const reply = once<{ produced: number; acked: number; connected: number }>(worker, "stats", 30_000);
      worker.send({ cmd: "stats" });
      return reply;
    };
    const before = await stats();
    const b0 = sampleProc(broker.pid);
    const w0 = sampleProc(worker.pid!);
    const rss = watchRss(broker.pid);
    broker.begin();
    process.stderr.write(`[${target}] measuring ${seconds} s …\n`);
    await delay(seconds * 1000);
    const { latency, consumer } = await broker.end();
    const b1 = sampleProc(broker.pid);
    const w1 = sampleProc(worker.pid!);
    const mem = rss.stop();
    const after = await stats();

    const stopped = once(worker, "stopped", 300_000);
    worker.send({ cmd: "stop", purge: broker.purge });
    await stopped;
    return {
      target,
      consumer,
      chargers: count,
      connected: after.connected,
      connectSeconds: connectMs / 1000,
      msgsPerSecond: (after.acked - before.acked) / ((b1.at - b0.at) / 1000),
      unacked: after.produced - after.acked,
      cpuPercent: cpuPercent(b0, b1),
      simCpuPercent: cpuPercent(w0, w1),
      rssBaselineBytes: baseline,
      rssPeakBytes: mem.peakBytes,
      rssPerConnectionBytes: (mem.meanBytes - baseline) / count,
      latency,
    };
  } finally {
    if (worker.exitCode === null) worker.kill("SIGKILL");
    await broker.stop();
  }
}

const results: TargetResult[] = [];
for (const target of a.targets!.split(",").map((t) => t.trim())) results.push(await measure(target));
const header = `Fleet bench: ${count} chargers, heartbeat ${heartbeatMs / 1000} s, meter ${meterMs / 1000} s, ${seconds} s window after ${warmupMs / 1000} s warm-up; bus ${process.env.KAFKA_BROKERS ? "Kafka" : "in-process"}`;
process.stdout.write(`${header}\n${formatTable(results)}\n`);
if (a.out) await writeFile(a.out, JSON.stringify({ header, results }, null, 2));
process.exit(0);

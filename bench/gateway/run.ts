/**
 * Gateway bench (issue 4): the real gateway process (gateway/main.ts) against two baselines
 * measured in the same run, on a Kafka broker of the bench's own (started with scripts/kafka.sh
 * in a temp dir, stopped and deleted at the end; the shared broker is never touched).
 *
 *   node --import tsx bench/gateway/run.ts [--clients 50] [--inflight 4] [--seconds 8] [--warmup 2]
 *        [--latency-seconds 10] [--backlog 50000] [--rounds 2] [--out results.json]
 *
 * Per round:
 * 1. Throughput: every client keeps `inflight` QoS 1 meter values outstanding. The figure is the
 *    gateway's `messages_out` counter (records the forwarder had acknowledged by Kafka, acks=all)
 *    over the window, read from /metrics; PUBACKs per second (durable on disk) are shown beside it.
 * 2. PUBACK latency, open loop at half of that throughput.
 * 3. The naive bridge (naive-bridge.ts: one Kafka send per message, acked after it) under the
 *    same clients and load: its PUBACKs are Kafka acks, so PUBACKs/s is its Kafka throughput.
 * 4. The kafkajs ceiling: batches of 500 records of the gateway's size, acks=all, from this process.
 * 5. Drain: Kafka stopped, `backlog` messages published into the gateway's disk queue, Kafka
 *    started; the queue depth (/healthz) is polled until it is 0.
 * At the end the events topics' record counts are checked against what was acknowledged.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { hashSecret } from "../../platform/password-hash.ts";
import { startProcess, type RunningProcess } from "../../tests/support/processes.ts";
import { waitFor } from "../../tests/support/wait.ts";
import { printReport, type RoundResult } from "./report.ts";
import { createTopic, measureCeiling, topicRecordCount } from "./kafka-ceiling.ts";
import { cpuMeter, freePort, sleep, startPrivateKafka, type PrivateKafka } from "./kit.ts";
import { connectChargers, disconnect, openLoop, publishTotal, startClosedLoad, type Charger } from "./load.ts";

const { values: a } = parseArgs({
  options: {
    clients: { type: "string", default: "50" },
    inflight: { type: "string", default: "4" },
    seconds: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
    "latency-seconds": { type: "string", default: "10" },
    backlog: { type: "string", default: "50000" },
    rounds: { type: "string", default: "2" },
    out: { type: "string" },
  },
});
const o = {
  clients: Number(a.clients),
  inflight: Number(a.inflight),
  seconds: Number(a.seconds),
  warmup: Number(a.warmup),
  latencySeconds: Number(a["latency-seconds"]),
  backlog: Number(a.backlog),
  rounds: Number(a.rounds),
};
const run = crypto.randomUUID().slice(0, 6);
const PASSWORD = "gwbench-secret-not-for-production";
const topics = {
  KAFKA_TOPIC_EVENTS: `gwbench-${run}.events`,
  KAFKA_TOPIC_COMMANDS: `gwbench-${run}.commands`,
  KAFKA_TOPIC_DLQ: `gwbench-${run}.dlq`,
  KAFKA_TOPIC_CREDENTIALS: `gwbench-${run}.credentials`,
};
const NAIVE_TOPIC = `gwbench-${run}.naive`;
const CEILING_TOPIC = `gwbench-${run}.ceiling`;

interface GatewayHandle {
  proc: RunningProcess;
  http: string;
  mqtt: string;
  dataDir: string;
}

async function startGateway(kafka: PrivateKafka, cpIds: string[]): Promise<GatewayHandle> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-bench-gw-"));
  // Credentials a previous run would have cached; one cheap hash for all: connect cost is not measured.
  const hash = await hashSecret(PASSWORD, 1_000);
  await mkdir(join(dataDir, "gateway"), { recursive: true });
  await writeFile(join(dataDir, "gateway", "credentials.json"), JSON.stringify(Object.fromEntries(cpIds.map((id) => [id, hash]))));
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const proc = startProcess(
    "gateway/main.ts",
    {
      ...topics,
      KAFKA_BROKERS: kafka.brokers.join(","),
      MQTT_PORT: String(mqttPort),
      OCPP_PORT: "0",
      MQTT_HOST: "127.0.0.1",
      GATEWAY_HTTP_PORT: String(httpPort),
      DATA_DIR: dataDir,
      GATEWAY_ID: `gwbench-${run}`,
      LOG_LEVEL: "warn",
      // 50+ connections from one address in a second would trip the per-address connect limit.
      MQTT_CONNECT_RATE_PER_MINUTE: "0",
    },
    "gateway",
  );
  const http = `http://127.0.0.1:${httpPort}`;
  await waitFor(() => fetch(`${http}/readyz`).then((r) => r.ok, () => false), { timeoutMs: 60_000, what: "gateway /readyz" });
  return { proc, http, mqtt: `mqtt://127.0.0.1:${mqttPort}`, dataDir };
}

interface GatewayReading {
  at: number;
  out: number;
  depth: number;
  commits: number;
  committed: number;
}

async function readGateway(gw: GatewayHandle): Promise<GatewayReading> {
  const [metrics, health] = await Promise.all([
    fetch(`${gw.http}/metrics`).then((r) => r.text()),
    fetch(`${gw.http}/healthz`).then((r) => r.json() as Promise<{ queue: { depth: number; commits: number; committedEntries: number } }>),
  ]);
  const out = Number(/^chargebridge_gateway_messages_out_total\{[^}]*\} (\S+)$/m.exec(metrics)?.[1] ?? 0);
  return { at: performance.now(), out, depth: health.queue.depth, commits: health.queue.commits, committed: health.queue.committedEntries };
}

async function queueDepth(gw: GatewayHandle): Promise<number> {
  return ((await (await fetch(`${gw.http}/healthz`)).json()) as { queue: { depth: number } }).queue.depth;
}

async function waitForEmptyQueue(gw: GatewayHandle, timeoutMs = 120_000): Promise<void> {
  await waitFor(async () => (await queueDepth(gw)) === 0, { timeoutMs, intervalMs: 50, what: "gateway queue to drain" });
}

/** Closed-loop load for warm-up + window; the window's rates and CPU shares. */
async function closedWindow(chargers: Charger[], pids: Record<string, number | undefined>, read?: () => Promise<GatewayReading>) {
  const load = startClosedLoad(chargers, o.inflight);
  await sleep(o.warmup * 1000);
  const r0 = await read?.();
  const a0 = load.acked();
  const t0 = performance.now();
  const cpu = cpuMeter(pids);
  await sleep(o.seconds * 1000);
  const r1 = await read?.();
  const a1 = load.acked();
  const seconds = (performance.now() - t0) / 1000;
  const cpuShares = cpu();
  await load.stop();
  return {
    pubacksPerSecond: (a1 - a0) / seconds,
    kafkaPerSecond: r0 && r1 ? (r1.out - r0.out) / ((r1.at - r0.at) / 1000) : (a1 - a0) / seconds,
    depthAtEnd: r1?.depth,
    appendsPerFsync: r0 && r1 ? (r1.committed - r0.committed) / Math.max(1, r1.commits - r0.commits) : undefined,
    cpu: cpuShares,
  };
}

async function drain(gw: GatewayHandle, chargers: Charger[], kafka: PrivateKafka) {
  await kafka.stop();
  const t0 = performance.now();
  await publishTotal(chargers, o.backlog, o.inflight);
  const ingestPerSecond = o.backlog / ((performance.now() - t0) / 1000);
  const backlog = await queueDepth(gw);
  const startAsked = performance.now();
  let resumedAt = 0;
  let emptyAt = 0;
  let cpu: Record<string, number> = {};
  const watch = (async () => {
    const deadline = performance.now() + 180_000;
    let meter: (() => Record<string, number>) | undefined;
    while (emptyAt === 0 && performance.now() < deadline) {
      const depth = await queueDepth(gw).catch(() => backlog);
      if (resumedAt === 0 && depth < backlog) {
        resumedAt = performance.now();
        meter = cpuMeter({ gateway: gw.proc.child.pid, kafka: kafka.pid() });
      }
      if (depth === 0) (emptyAt = performance.now()), (cpu = meter?.() ?? {});
      else await sleep(50);
    }
  })();
  await kafka.start();
  const readyAt = performance.now();
  await watch;
  if (emptyAt === 0) throw new Error("the gateway's queue did not drain within 180 s of Kafka's restart");
  return {
    backlog,
    ingestPerSecond,
    kafkaStartSeconds: (readyAt - startAsked) / 1000,
    // Negative when the gateway got through before scripts/kafka.sh noticed the broker was up.
    resumeAfterReadySeconds: (resumedAt - readyAt) / 1000,
    drainSeconds: (emptyAt - resumedAt) / 1000,
    drainPerSecond: backlog / ((emptyAt - resumedAt) / 1000),
    gatewayCpu: cpu.gateway ?? Number.NaN,
    gatewayWait: cpu.gatewayWait ?? Number.NaN,
    kafkaCpu: cpu.kafka ?? Number.NaN,
  };
}

async function main(): Promise<void> {
  console.log(`gateway bench ${run}: ${o.clients} clients x ${o.inflight} in flight, windows ${o.warmup}+${o.seconds} s, ` +
    `latency ${o.latencySeconds} s, backlog ${o.backlog}, ${o.rounds} round(s); starting a private Kafka...`);
  const kafka = await startPrivateKafka();
  const cleanup: (() => Promise<unknown>)[] = [() => kafka.destroy()];
  const onSignal = () => void Promise.allSettled(cleanup.reverse().map((f) => f())).finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  try {
    const cpIds = Array.from({ length: o.clients }, (_, i) => `gwbench-cp-${String(i + 1).padStart(3, "0")}`);
    const gw = await startGateway(kafka, cpIds);
    cleanup.push(async () => (await gw.proc.stop(), await rm(gw.dataDir, { recursive: true, force: true })));
    const naive = startProcess("bench/gateway/naive-bridge.ts", { KAFKA_BROKERS: kafka.brokers.join(","), NAIVE_TOPIC, NAIVE_MQTT_PORT: "0" }, "naive-bridge");
    cleanup.push(() => naive.stop());
    const naivePort = (await naive.waitForLog((l) => l.ready === true, 60_000, "ready")).mqttPort as number;
    await createTopic(kafka.brokers, CEILING_TOPIC);

    const gwChargers = await connectChargers(gw.mqtt, cpIds, PASSWORD);
    const naiveChargers = await connectChargers(`mqtt://127.0.0.1:${naivePort}`, cpIds, PASSWORD);
    cleanup.push(() => disconnect([...gwChargers, ...naiveChargers]));
    // Warm-up: JIT, topic creation, producer connections, first segment file.
    await publishTotal(gwChargers, 2_000, o.inflight);
    await publishTotal(naiveChargers, 200, 1);
    await waitForEmptyQueue(gw);

    const rounds: RoundResult[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const pids = { gateway: gw.proc.child.pid, naive: naive.child.pid, kafka: kafka.pid(), loadgen: process.pid };
      const gwT = await closedWindow(gwChargers, pids, () => readGateway(gw));
      await waitForEmptyQueue(gw);
      const gwL = await openLoop(gwChargers, Math.round(gwT.kafkaPerSecond / 2), o.latencySeconds);
      await waitForEmptyQueue(gw);
      const nvT = await closedWindow(naiveChargers, pids);
      const nvL = await openLoop(naiveChargers, Math.max(1, Math.round(nvT.kafkaPerSecond / 2)), o.latencySeconds);
      // The gateway at the naive bridge's half load: the same rate for both, latency side by side.
      const gwSame = await openLoop(gwChargers, nvL.rate, o.latencySeconds);
      await waitForEmptyQueue(gw);
      const ceilSerial = await measureCeiling({ brokers: kafka.brokers, topic: CEILING_TOPIC, batch: 500, inflight: 1, seconds: o.seconds });
      const ceilParallel = await measureCeiling({ brokers: kafka.brokers, topic: CEILING_TOPIC, batch: 500, inflight: 4, seconds: o.seconds });
      const dr = o.backlog > 0 ? await drain(gw, gwChargers, kafka) : undefined;
      const result: RoundResult = { round, gwT, gwL, nvT, nvL, gwSame, ceilSerial, ceilParallel, drain: dr };
      rounds.push(result);
      console.log(`round ${round}: ${JSON.stringify(result)}`);
    }

    // Cross-check with Kafka itself: every acknowledged message is in the topics.
    const final = await readGateway(gw);
    const gwRecords = await topicRecordCount(kafka.brokers, topics.KAFKA_TOPIC_EVENTS);
    const naiveRecords = await topicRecordCount(kafka.brokers, NAIVE_TOPIC);
    const naiveAcked = naiveChargers.reduce((n, c) => n + c.seq, 0);
    console.log(`check: gateway messages_out ${final.out}, records in its events topic ${gwRecords} (presence events included); ` +
      `naive bridge PUBACKed ${naiveAcked}, records in its topic ${naiveRecords}`);
    printReport(rounds, o);
    if (a.out) await writeFile(a.out, JSON.stringify({ run, options: o, rounds }, null, 2));
  } finally {
    process.off("SIGINT", onSignal);
    for (const f of cleanup.reverse()) await f().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
  }
}

await main();

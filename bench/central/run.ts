/**
 * Central bench (issue 5). Plain script; prints tables, asserts nothing about time.
 *
 *   node --import tsx bench/central/run.ts [--stages tx,e2e,drain]
 *     tx:  [--workers 1,8,32] [--tx-seconds 3] [--rounds 2] [--charge-points 1000] [--pool 10]
 *     e2e: [--chargers 1000] [--rate 5] [--seconds 60] [--provision seed|api] [--poll-ms 50] [--poll-every 10]
 *     drain: [--drain-events 100000] [--drain-partitions 6] [--drain-concurrency 3] [--drain-modes one-by-one,batched,batched-prepared]
 *            [--drain-batch 500] [--drain-baseline-events 10000] [--rounds 2]
 *     storage: [--storage-events 6000] [--storage-window-hours 336] [--storage-span-windows 4] [--storage-prune-every 300]
 *   [--out results.json]
 *
 * `tx` (reserve-tx.ts) runs in this process against PostgreSQL (TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test, in a schema of its own, dropped afterwards) and PGlite.
 * Scenarios run interleaved, round after round, and the table shows medians: two shared cores
 * drift by several times within a minute and no scenario should always get the quiet moment.
 * `e2e` (reserve-e2e.ts) needs Kafka: KAFKA_BROKERS if set, else a broker of its own started with
 * scripts/kafka.sh in a temp dir and removed afterwards (the shared broker is never stopped).
 * `drain` (consumer-drain.ts) needs PostgreSQL and Kafka likewise: Central's event consumer
 * draining a backlog of heartbeats and meter values, batched and one by one (the baseline),
 * beside the one-row UPDATE commit rate of the same database.
 * `storage` (storage.ts) needs PostgreSQL only (not in the default stages): database bytes per
 * applied event with the retention prune and, as the same-run baseline, without it.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { TEST_DATABASE_URL } from "../../tests/support/postgres.ts";
import { fmt, markdownTable, median, startPrivateKafka, type PrivateKafka } from "../gateway/kit.ts";
import type { Spread } from "./measure.ts";
import { runDrain, type DrainMode, type DrainResult } from "./consumer-drain.ts";
import { runE2e, type E2eResult } from "./reserve-e2e.ts";
import { runStorage, type StorageRun } from "./storage.ts";
import { applyHeartbeats, oneRowCommit, pgliteTarget, postgresTarget, reserveCancel, selectOne, type TxResult } from "./reserve-tx.ts";

const { values: a } = parseArgs({
  options: {
    stages: { type: "string", default: "tx,e2e,drain" },
    "drain-events": { type: "string", default: "100000" },
    "drain-partitions": { type: "string", default: "6" },
    "drain-concurrency": { type: "string", default: "3" },
    "drain-modes": { type: "string", default: "one-by-one,batched,batched-prepared" },
    "drain-batch": { type: "string", default: "500" },
    "drain-baseline-events": { type: "string", default: "10000" },
    workers: { type: "string", default: "1,8,32" },
    "tx-seconds": { type: "string", default: "3" },
    rounds: { type: "string", default: "2" },
    "charge-points": { type: "string", default: "1000" },
    pool: { type: "string", default: "10" },
    chargers: { type: "string", default: "1000" },
    rate: { type: "string", default: "5" },
    seconds: { type: "string", default: "60" },
    provision: { type: "string", default: "seed" },
    "poll-ms": { type: "string", default: "50" },
    "poll-every": { type: "string", default: "10" },
    "storage-events": { type: "string", default: "6000" },
    "storage-window-hours": { type: "string", default: "336" },
    "storage-span-windows": { type: "string", default: "4" },
    "storage-prune-every": { type: "string", default: "300" },
    out: { type: "string" },
  },
});
const stages = new Set(a.stages!.split(","));
const results: { tx?: TxResult[]; e2e?: E2eResult; drain?: DrainResult; storage?: StorageRun[] } = {};

async function txStage(): Promise<void> {
  const workers = a.workers!.split(",").map(Number);
  const seconds = Number(a["tx-seconds"]);
  const rounds = Number(a.rounds);
  const chargePoints = Number(a["charge-points"]);
  const pool = Number(a.pool);
  const maxWorkers = Math.max(...workers);
  console.log(`tx: PostgreSQL ${TEST_DATABASE_URL} (pool ${pool}) and PGlite, ${chargePoints} charge points online, ` +
    `workers ${workers.join("/")}, ${seconds} s per scenario, ${rounds} interleaved round(s)`);
  const pg = await postgresTarget(TEST_DATABASE_URL, chargePoints, maxWorkers, pool);
  const prepared = await postgresTarget(TEST_DATABASE_URL, chargePoints, maxWorkers, pool, true);
  const lite = await pgliteTarget(chargePoints, maxWorkers);
  const all: TxResult[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const w of workers) {
        const scenarios = [
          () => reserveCancel(pg, w, seconds),
          () => reserveCancel(lite, w, seconds),
          () => reserveCancel(prepared, w, seconds),
          () => applyHeartbeats(pg, w, seconds, chargePoints),
          () => selectOne(pg.db, w, seconds),
          () => oneRowCommit(pg.db, w, seconds),
        ];
        // Rotate the order each round so no scenario always runs first.
        for (let i = 0; i < scenarios.length; i++) {
          const r = await scenarios[(i + round) % scenarios.length]!();
          all.push(r);
          console.log(`  round ${round + 1}: ${r.scenario}, ${r.workers} workers: ${fmt(r.perSecond)}/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, errors ${r.errors}`);
        }
      }
    }
  } finally {
    await pg.close();
    await prepared.close();
    await lite.close();
  }
  results.tx = all;
  const groups = new Map<string, TxResult[]>();
  for (const r of all) groups.set(`${r.scenario}|${r.workers}`, [...(groups.get(`${r.scenario}|${r.workers}`) ?? []), r]);
  const rows = [...groups.values()].map((rs) => {
    const rates = rs.map((r) => r.perSecond);
    return [
      rs[0]!.scenario,
      String(rs[0]!.workers),
      fmt(median(rates)),
      rs.length > 1 ? `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}` : "",
      fmt(median(rs.map((r) => r.p50)), 1),
      fmt(median(rs.map((r) => r.p99)), 1),
      String(rs.reduce((n, r) => n + r.errors, 0)),
    ];
  });
  rows.sort((x, y) => x[0]!.localeCompare(y[0]!) || Number(x[1]) - Number(y[1]));
  console.log(`\nReservation transactions (median over ${rounds} round(s); reserve+cancel = 2 transactions):\n`);
  console.log(markdownTable(["scenario", "workers", "ops/s (median)", "ops/s (min–max)", "p50 ms", "p99 ms", "errors"], rows));
}

/** KAFKA_BROKERS if set; else a private broker for this stage, removed afterwards. */
async function withKafka(stage: string, run: (brokers: string[]) => Promise<void>): Promise<void> {
  const external = process.env.KAFKA_BROKERS?.trim();
  let kafka: PrivateKafka | undefined;
  if (!external) {
    console.log(`${stage}: starting a private Kafka...`);
    kafka = await startPrivateKafka();
  }
  try {
    await run(external ? external.split(",").map((b) => b.trim()) : kafka!.brokers);
  } finally {
    await kafka?.destroy();
  }
}

async function e2eStage(): Promise<void> {
  await withKafka("e2e", async (brokers) => {
    const o = {
      brokers: brokers.join(","),
      chargers: Number(a.chargers),
      rate: Number(a.rate),
      seconds: Number(a.seconds),
      provision: a.provision === "api" ? ("api" as const) : ("seed" as const),
      pollMs: Number(a["poll-ms"]),
      pollEvery: Number(a["poll-every"]),
    };
    console.log(`e2e: ${o.chargers} chargers, ${o.rate} reservations/s for ${o.seconds} s, provisioning by ${o.provision}, Kafka ${o.brokers}`);
    const r = await runE2e(o);
    results.e2e = r;
    const row = (name: string, s: Spread) => [name, String(s.count), fmt(s.p50), fmt(s.p99), fmt(s.max)];
    console.log(`\nReserve → charging with ${o.chargers} chargers (set-up ${fmt(r.setupSeconds)} s; ${r.reserveToCharging.count}/${r.reservations} reservations reached charging):\n`);
    console.log(
      markdownTable(
        ["span", "n", "p50 ms", "p99 ms", "max ms"],
        [
          row("reserve committed → charging_started applied (Central's clock, DB)", r.reserveToCharging),
          row(`POST /v1/reservations response → GET reads charging (client; 1 in ${o.pollEvery} drivers polls every ${o.pollMs} ms)`, r.clientObserved),
          row("  reserve → `start` command committed (driver's POST start)", r.reserveToStartCommand),
          row("  `start` committed → published to Kafka (outbox)", r.outbox),
          row("  published → charger started (Kafka → gateway → MQTT → charger)", r.commandToCharger),
          row("  charger started → Central applied (MQTT → gateway queue → Kafka → Central)", r.chargerToCentral),
          row("    charger started → gateway received (MQTT)", r.chargerToGateway),
          row("    gateway received → sent to Kafka (disk queue, forwarder; record timestamp)", r.gatewayToKafka),
          row("    on Kafka → Central applied (consumer, CENTRAL_CONSUMER_CONCURRENCY partitions at once)", r.kafkaToApplied),
        ],
      ),
    );
    const c = r.cpu;
    console.log(
      `\nduring the window, % of one core (run-queue wait of its event loop): Central ${fmt(c.central)} (${fmt(c.centralWait)}), ` +
        `gateway ${fmt(c.gateway)} (${fmt(c.gatewayWait)}), bench with the fleet ${fmt(c.bench)} (${fmt(c.benchWait)})`,
    );
    console.log(
      `Central's event consumer over the window: ${fmt(r.consumer.offeredPerSecond)} records/s arrived, ${fmt(r.consumer.appliedPerSecond)} events/s applied, ` +
        `${r.consumer.lagAtEnd} records not yet consumed at its end${r.consumer.lagAtEnd > 100 ? " (SATURATED: the latencies above include its backlog)" : ""}`,
    );
    console.log(`connect burst: Central applied ${r.connectBurst.events} events in ${fmt(r.connectBurst.seconds, 1)} s (${fmt(r.connectBurst.perSecond)}/s) while ${o.chargers} chargers connected`);
  });
}

async function drainStage(): Promise<void> {
  await withKafka("drain", async (brokers) => {
    const o = {
      brokers,
      databaseUrl: TEST_DATABASE_URL,
      events: Number(a["drain-events"]),
      baselineEvents: Number(a["drain-baseline-events"]),
      chargePoints: 1000,
      partitions: Number(a["drain-partitions"]),
      concurrency: Number(a["drain-concurrency"]),
      modes: a["drain-modes"]!.split(",") as DrainMode[],
      maxBatchRecords: Number(a["drain-batch"]),
      rounds: Number(a.rounds),
    };
    console.log(`drain: ${o.events} events (${o.baselineEvents} one by one) (heartbeats and meter values) over ${o.chargePoints} chargers on ${o.partitions} partitions, ` +
      `concurrency ${o.concurrency}, modes ${o.modes.join("/")}, batches of up to ${o.maxBatchRecords}, ${o.rounds} round(s), PostgreSQL ${o.databaseUrl}`);
    const result = await runDrain(o);
    results.drain = result;
    const baseline = median(result.runs.filter((r) => r.mode === "one-by-one").map((r) => r.perSecond));
    const commit1 = median(result.commits.filter((c) => c.workers === 1).map((c) => c.perSecond));
    const commitN = median(result.commits.filter((c) => c.workers === o.concurrency).map((c) => c.perSecond));
    const rows = o.modes.map((mode) => {
      const rs = result.runs.filter((r) => r.mode === mode);
      const rates = rs.map((r) => r.perSecond);
      const m = median(rates);
      return [
        mode === "one-by-one" ? "one-by-one (baseline: a transaction per record)" : mode,
        fmt(m),
        rates.length > 1 ? `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}` : "",
        baseline ? `${fmt(m / baseline, 2)}×` : "",
        commitN ? `${fmt(m / commitN, 2)}×` : "",
        fmt(median(rs.map((r) => r.centralCpu))),
        fmt(median(rs.map((r) => r.postgresCpu))),
        fmt(median(rs.map((r) => r.load)), 1),
      ];
    });
    console.log(`
Central's consumer draining ${o.events} events from ${o.partitions} partitions into PostgreSQL (median over ${o.rounds} round(s));
one-row UPDATE commits in the same run: ${fmt(commit1)}/s at 1 worker, ${fmt(commitN)}/s at ${o.concurrency} workers:
`);
    console.log(markdownTable(["mode", "events/s (median)", "events/s (min–max)", "vs one-by-one", `vs one-row commits (${o.concurrency} workers)`, "Central CPU %", "PostgreSQL CPU %", "load (1 min)"], rows));
  });
}

async function storageStage(): Promise<void> {
  const o = {
    databaseUrl: TEST_DATABASE_URL,
    events: Number(a["storage-events"]),
    chargePoints: 1000,
    windowHours: Number(a["storage-window-hours"]),
    spanWindows: Number(a["storage-span-windows"]),
    pruneEvery: Number(a["storage-prune-every"]),
    reserveEvery: 100,
    workers: 4,
  };
  console.log(`storage: ${o.events} heartbeats from ${o.chargePoints} chargers (+ a reserve/cancel every ${o.reserveEvery}) over ${o.spanWindows} retention windows of ${o.windowHours} h, ` +
    `prune every ${o.pruneEvery} events, PostgreSQL ${o.databaseUrl}`);
  const runs = await runStorage(o);
  results.storage = runs;
  const kib = (b: number) => fmt(b / 1024);
  const rows: string[][] = [];
  for (const r of runs) {
    const quarters = [1, 2, 3, 4].map((q) => r.samples[Math.max(0, Math.round((r.samples.length * q) / 4) - 1)]!);
    for (const s of quarters) {
      const bytes = s.processedBytes + s.commandBytes;
      rows.push([r.target === "pruned" ? "with pruning" : "baseline: no pruning", String(s.events), String(s.processedRows), String(s.commandRows), kib(s.processedBytes), kib(s.commandBytes), fmt(bytes / s.events)]);
    }
  }
  console.log(`\nprocessed_messages + commands on PostgreSQL (pg_total_relation_size after VACUUM), by events applied:\n`);
  console.log(markdownTable(["run", "events", "processed rows", "command rows", "processed KiB", "commands KiB", "bytes / event applied"], rows));
  const pruned = runs.find((r) => r.target === "pruned")!;
  const last = pruned.samples.at(-1)!;
  const steady = pruned.samples.slice(Math.floor(pruned.samples.length / 2));
  const perRow = median(steady.map((s) => s.processedBytes / Math.max(1, s.processedRows)));
  console.log(`\nwith pruning, second half of the run: ${fmt(median(steady.map((s) => s.processedRows)))} message ids kept (median), ${fmt(perRow)} bytes per kept id; ` +
    `prune round median ${fmt(median(pruned.pruneRoundMs), 1)} ms, max ${fmt(Math.max(...pruned.pruneRoundMs), 1)} ms; final ${kib(last.processedBytes + last.commandBytes)} KiB`);
  const base = runs.find((r) => r.target === "baseline")!.samples;
  const mid = base[Math.floor(base.length / 2)]!;
  const end = base.at(-1)!;
  const grow = (end.processedBytes + end.commandBytes - mid.processedBytes - mid.commandBytes) / (end.events - mid.events);
  console.log(`baseline, second half of the run: the two tables grow ${fmt(grow)} bytes per event applied, without end`);
  for (const r of runs) console.log(`${r.target}: applied ${o.events} events in ${fmt(r.applySeconds, 1)} s (${fmt(o.events / r.applySeconds)}/s)`);
}

// e2e first: in both runs that ran it right after the tx stage, Central was slow from the e2e's
// start (2/2), never when e2e ran alone (3/3). The cause was not pinned down (PostgreSQL writing
// back what the tx stage churned is the suspect), so the order keeps it out of the e2e figures.
if (stages.has("e2e")) await e2eStage();
if (stages.has("tx")) await txStage();
if (stages.has("drain")) await drainStage();
if (stages.has("storage")) await storageStage();
if (a.out) await writeFile(a.out, JSON.stringify(results, null, 2));

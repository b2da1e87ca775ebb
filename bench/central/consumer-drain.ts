/**
 * Central's event consumer draining a backlog from Kafka into PostgreSQL, the path every charger
 * message takes (issue 12 part 2). The backlog mixes heartbeats and meter values over the charge
 * points, each of which has a session open, so a meter value really moves a session row.
 * Modes, measured in the same run on one schema: `one-by-one` (CENTRAL_EVENT_BATCHING=false, one
 * transaction per record: the baseline), `batched` (the default) and `batched-prepared` (the same
 * with DATABASE_PREPARED_STATEMENTS=true). Each run gets its own topic (fresh message ids, so
 * nothing is a duplicate) and consumer group; modes alternate their order round by round. Beside
 * them, the one-row UPDATE commit rate on the same database bounds what one transaction per
 * record could reach at best.
 */
import { loadavg } from "node:os";
import { readdir, readFile } from "node:fs/promises";
import postgres from "postgres";
import { loadCentralConfig } from "../../central/config.ts";
import { createCentral } from "../../central/create-central.ts";
import type { Db } from "../../central/db/db.ts";
import { migrate } from "../../central/db/migrations.ts";
import { openPostgresDb } from "../../central/db/postgres-db.ts";
import { createKafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { sleep } from "../gateway/kit.ts";
import { oneRowCommit, type TxResult } from "./reserve-tx.ts";

export type DrainMode = "one-by-one" | "batched" | "batched-prepared";

export interface DrainOptions {
  brokers: string[];
  databaseUrl: string;
  events: number;
  /** Backlog for `one-by-one`, which is ~50× slower: the rate is what is compared. Default `events`. */
  baselineEvents?: number;
  chargePoints: number;
  partitions: number;
  concurrency: number;
  modes: DrainMode[];
  rounds: number;
  maxBatchRecords: number;
}

export interface DrainRun {
  mode: DrainMode;
  round: number;
  events: number;
  /** Events applied per second, from the first applied event to the last. */
  perSecond: number;
  /** From Central's start to the first applied event: joining the group, the first fetch. */
  startMs: number;
  /** % of one core over the drain: this process (Central and the bench's poll), and all PostgreSQL processes. */
  centralCpu: number;
  postgresCpu: number;
  /** 1-minute load average at the end (2 cores, shared). */
  load: number;
}

export interface DrainResult {
  runs: DrainRun[];
  /** One-row UPDATE, own commit, one worker and `concurrency` workers, before and after the drains. */
  commits: TxResult[];
}

const quiet = createLogger("drain-bench", "error");
const cp = (i: number) => `drain-cp-${String(i).padStart(5, "0")}`;

export async function runDrain(o: DrainOptions): Promise<DrainResult> {
  const run = Date.now().toString(36);
  const schema = `cb_drain_${run}`;
  const db = await openPostgresDb({ url: o.databaseUrl, schema, maxConnections: 10 });
  const prepared = await openPostgresDb({ url: o.databaseUrl, schema, maxConnections: 10, prepare: true });
  const runs: DrainRun[] = [];
  const commits: TxResult[] = [];
  try {
    await migrate(db);
    await seed(db, o.chargePoints);
    const measureCommits = async () => {
      for (const w of [1, o.concurrency]) {
        const r = await oneRowCommit(db, w, 3);
        commits.push(r);
        console.log(`  one-row UPDATE commit, ${w} worker(s): ${Math.round(r.perSecond)}/s`);
      }
    };
    await measureCommits();
    const producer = createKafkaBus({ brokers: o.brokers, clientId: `drain-${run}-producer`, partitions: o.partitions, logger: quiet });
    try {
      for (let round = 1; round <= o.rounds; round++) {
        const order = round % 2 === 1 ? o.modes : [...o.modes].reverse();
        for (const mode of order) {
          const topic = `drain-${run}-r${round}-${mode}`;
          const events = mode === "one-by-one" ? (o.baselineEvents ?? o.events) : o.events;
          await fill(producer, topic, events, o.chargePoints);
          const r = await drainOnce({ ...o, events, db: mode === "batched-prepared" ? prepared : db, topic, mode, groupId: `${topic}-central` });
          runs.push({ ...r, mode, round, events });
          console.log(
            `  round ${round}: ${mode}: ${Math.round(r.perSecond)} events/s (first event after ${Math.round(r.startMs)} ms; ` +
              `CPU % of a core: Central ${Math.round(r.centralCpu)}, PostgreSQL ${Math.round(r.postgresCpu)}; load ${r.load.toFixed(1)})`,
          );
        }
      }
    } finally {
      await producer.close();
    }
    await measureCommits();
  } finally {
    await prepared.close();
    await db.close();
    const admin = postgres(o.databaseUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
  return { runs, commits };
}

/** Online charge points, each charging in a session that meter values move; one driver (also the commit probe's row). */
async function seed(db: Db, chargePoints: number): Promise<void> {
  await db.query("INSERT INTO drivers (driver_id, name, created_at) VALUES ('txbench-drv-1', 'bench', now())");
  for (let w = 2; w <= 64; w++) await db.query("INSERT INTO drivers (driver_id, name, created_at) VALUES ($1, 'bench', now())", [`txbench-drv-${w}`]);
  await db.query(
    `INSERT INTO charge_points (cp_id, status, online, secret_hash, created_at)
     SELECT 'drain-cp-' || lpad(i::text, 5, '0'), 'charging', true, 'pbkdf2-sha256$1$x$x', now() FROM generate_series(1, $1) i`,
    [chargePoints],
  );
  await db.query(
    `INSERT INTO reservations (reservation_id, cp_id, driver_id, status, created_at, expires_at, started_at)
     SELECT 'drain-res-' || i, 'drain-cp-' || lpad(i::text, 5, '0'), 'txbench-drv-1', 'charging', now(), now() + interval '1 hour', now()
       FROM generate_series(1, $1) i`,
    [chargePoints],
  );
  await db.query(
    `INSERT INTO sessions (session_id, reservation_id, cp_id, driver_id, meter_start_wh, started_at, energy_wh)
     SELECT 'drain-ses-' || i, 'drain-res-' || i, 'drain-cp-' || lpad(i::text, 5, '0'), 'txbench-drv-1', 0, now(), 0
       FROM generate_series(1, $1) i`,
    [chargePoints],
  );
}

/** `events` records, heartbeats and meter values alternating, spread over the charge points as a gateway would forward them. */
async function fill(bus: ReturnType<typeof createKafkaBus>, topic: string, events: number, chargePoints: number): Promise<void> {
  const batch = 1000;
  const t0 = Date.now();
  const pending: Promise<void>[] = [];
  for (let from = 0; from < events; from += batch) {
    const records = [];
    for (let n = from; n < Math.min(events, from + batch); n++) {
      const i = (n % chargePoints) + 1;
      const ts = new Date(t0 + n).toISOString();
      const payload =
        n % 2 === 0
          ? { type: "heartbeat", payload: { id: `${topic}-${n}`, ts } }
          : { type: "meter", payload: { id: `${topic}-${n}`, ts, reservationId: `drain-res-${i}`, energyWh: n, powerW: 11_000 } };
      const value = { kind: "up", cpId: cp(i), ...payload, gatewayId: "drain", receivedAt: ts };
      records.push({ key: cp(i), value: JSON.stringify(value) });
    }
    pending.push(bus.publish(topic, records));
    if (pending.length >= 8) await pending.shift();
  }
  await Promise.all(pending);
}

/** CPU seconds of every process named postgres, from /proc (Linux). */
async function postgresCpuSeconds(): Promise<number> {
  let ticks = 0;
  for (const pid of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const m = /^\d+ \((.*)\) (.*)$/s.exec(stat);
    if (!m || m[1] !== "postgres") continue;
    const f = m[2]!.split(" ");
    ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  }
  return ticks / 100;
}

async function drainOnce(
  o: DrainOptions & { db: Db; topic: string; mode: DrainMode; groupId: string },
): Promise<Omit<DrainRun, "mode" | "round" | "events">> {
  const bus = createKafkaBus({ brokers: o.brokers, clientId: `${o.groupId}`, partitions: o.partitions, logger: quiet });
  const config = loadCentralConfig({
    HTTP_PORT: "0",
    OPERATOR_TOKEN: "drain-bench-operator-token-0123",
    TOKEN_SECRET: "x".repeat(32),
    CENTRAL_GROUP_ID: o.groupId,
    CENTRAL_CONSUMER_CONCURRENCY: String(o.concurrency),
    CENTRAL_EVENT_BATCHING: o.mode === "one-by-one" ? "false" : "true",
    CENTRAL_BATCH_MAX_RECORDS: String(o.maxBatchRecords),
  });
  const central = await createCentral({ config, bus, db: o.db, log: quiet, topics: { ...DEFAULT_TOPICS, events: o.topic } });
  // Central's own counter: polling the table would load the database being measured.
  const applied = async () => (await central.ctx.metrics.eventsApplied.get()).values.reduce((n, v) => n + v.value, 0);
  const started = performance.now();
  await central.start({ listen: false });
  try {
    let first: { at: number; count: number; cpu: NodeJS.CpuUsage; pg: number } | undefined;
    for (;;) {
      const count = await applied();
      const at = performance.now();
      if (!first && count > 0) first = { at, count, cpu: process.cpuUsage(), pg: await postgresCpuSeconds() };
      if (count >= o.events) {
        if (!first || at === first.at) throw new Error("Backlog drained between two polls; use more events");
        const seconds = (at - first.at) / 1000;
        const cpu = process.cpuUsage(first.cpu);
        const pg = (await postgresCpuSeconds()) - first.pg;
        return {
          perSecond: (count - first.count) / seconds,
          startMs: first.at - started,
          centralCpu: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
          postgresCpu: (pg / seconds) * 100,
          load: loadavg()[0]!,
        };
      }
      if (at - started > 10 * 60_000) throw new Error(`Drain stalled at ${count}/${o.events}`);
      await sleep(50);
    }
  } finally {
    await central.stop();
    await bus.close();
  }
}

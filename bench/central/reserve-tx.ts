/**
 * Reservation transactions per second, in-process: central/lifecycle/intents/reserve.ts and
 * cancel-by-driver.ts through `createCentral` (outbox publisher and expiry sweeper running, on
 * an in-process bus), against PostgreSQL in a fresh schema and, as the baseline, the same code on
 * PGlite on disk (the embedded default). Two more baselines on the same PostgreSQL pool bound
 * what any transaction can do here: a bare `SELECT 1` round trip and a one-row UPDATE committed
 * on its own (one WAL flush per commit, the cost every write transaction pays at least).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { loadCentralConfig } from "../../central/config.ts";
import { createCentral, type Central } from "../../central/create-central.ts";
import type { Db } from "../../central/db/db.ts";
import { migrate } from "../../central/db/migrations.ts";
import { openPgliteDb } from "../../central/db/pglite-db.ts";
import { openPostgresDb } from "../../central/db/postgres-db.ts";
import { cancelByDriver, reserve } from "../../central/lifecycle/index.ts";
import { applyBusRecord } from "../../central/events/apply-bus-record.ts";
import { createLogger } from "../../platform/logger.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { percentile } from "../gateway/kit.ts";

export interface TxResult {
  scenario: string;
  workers: number;
  /** Completed operations per second (for reserve+cancel: reservations, i.e. two transactions each). */
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface Target {
  name: string;
  central: Central;
  db: Db;
  close(): Promise<void>;
}

/** Central on `db` with `chargePoints` online, available charge points and `drivers` drivers. */
async function centralOn(name: string, db: Db, chargePoints: number, drivers: number, close: () => Promise<void>): Promise<Target> {
  await migrate(db);
  const now = new Date();
  // Seeded in bulk: the API would spend a PBKDF2 hash on each, which is not what is measured.
  await db.query(
    `INSERT INTO charge_points (cp_id, status, online, secret_hash, created_at)
     SELECT 'txbench-cp-' || lpad(i::text, 5, '0'), 'available', true, 'pbkdf2-sha256$1$x$x', $1 FROM generate_series(1, $2) i`,
    [now, chargePoints],
  );
  await db.query(`INSERT INTO drivers (driver_id, name, created_at) SELECT 'txbench-drv-' || i, 'bench', $1 FROM generate_series(1, $2) i`, [now, drivers]);
  const config = loadCentralConfig({ HTTP_PORT: "0", OPERATOR_TOKEN: "txbench-operator-token-0123456789", TOKEN_SECRET: "x".repeat(32) });
  const central = await createCentral({ config, bus: new InProcessBus({}), db, log: createLogger("txbench", "error") });
  await central.start({ listen: false });
  return {
    name,
    central,
    db,
    async close() {
      await central.stop();
      await close();
    },
  };
}

/**
 * `prepared: false` is Central's adapter as it runs by default (central/db/postgres-db.ts);
 * `prepared: true` is the same with DATABASE_PREPARED_STATEMENTS=true. Without it postgres.js
 * sends every parameterised statement unnamed and first asks the server to describe its
 * parameters, one extra round trip per statement; with it each connection parses a statement
 * once and reuses it.
 */
export async function postgresTarget(url: string, chargePoints: number, drivers: number, poolSize: number, prepared = false): Promise<Target> {
  const schema = `txbench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const db = await openPostgresDb({ url, schema, maxConnections: poolSize, prepare: prepared });
  return centralOn(prepared ? "PostgreSQL, prepared statements" : "PostgreSQL", db, chargePoints, drivers, async () => {
    await db.close();
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });
}

export async function pgliteTarget(chargePoints: number, drivers: number): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), "cb-txbench-pglite-"));
  const db = await openPgliteDb(join(dir, "central-db"));
  return centralOn("PGlite", db, chargePoints, drivers, async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });
}

/** `workers` loops running `op` back to back for `seconds`; throughput and per-op latency. */
async function drive(scenario: string, workers: number, seconds: number, op: (worker: number) => Promise<void>): Promise<TxResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await op(w);
          latencies.push(performance.now() - t);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { scenario, workers, perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/**
 * Each worker is one driver who reserves "any charge point" (the API's default, FOR UPDATE SKIP
 * LOCKED) and cancels at once, so the pool of available charge points stays full.
 */
export function reserveCancel(target: Target, workers: number, seconds: number): Promise<TxResult> {
  const ctx = target.central.ctx;
  return drive(`reserve+cancel on ${target.name}`, workers, seconds, async (w) => {
    const driverId = `txbench-drv-${w + 1}`;
    const r = await reserve(ctx, { driverId });
    await cancelByDriver(ctx, driverId, r.reservation_id);
  });
}

/**
 * What Central's event consumer does per record: `applyBusRecord` for a charger's heartbeat (one
 * transaction: charge point lookup, message id recorded, last_seen touched). With one worker
 * this is the consumer at CENTRAL_CONSUMER_CONCURRENCY=1, one record at a time; more workers show what applying
 * partitions concurrently could reach.
 */
export function applyHeartbeats(target: Target, workers: number, seconds: number, chargePoints: number): Promise<TxResult> {
  const ctx = target.central.ctx;
  let seq = 0;
  const run = Date.now().toString(36);
  return drive(`apply heartbeat event on ${target.name}`, workers, seconds, async () => {
    const n = seq++;
    const cpId = `txbench-cp-${String((n % chargePoints) + 1).padStart(5, "0")}`;
    const now = new Date().toISOString();
    const value = JSON.stringify({ kind: "up", cpId, type: "heartbeat", payload: { id: `hb-${run}-${n}`, ts: now }, gatewayId: "txbench", receivedAt: now });
    const outcome = await applyBusRecord(ctx, value);
    if (outcome.result !== "applied") throw new Error(`heartbeat not applied: ${outcome.result}`);
  });
}

export function selectOne(db: Db, workers: number, seconds: number): Promise<TxResult> {
  return drive("SELECT 1 round trip (PostgreSQL)", workers, seconds, async () => {
    await db.query("SELECT 1");
  });
}

/** One committed one-row write per op, each worker on its own row (no lock waits). */
export function oneRowCommit(db: Db, workers: number, seconds: number): Promise<TxResult> {
  return drive("one-row UPDATE, own commit (PostgreSQL)", workers, seconds, async (w) => {
    await db.transaction((tx) => tx.query("UPDATE drivers SET name = name WHERE driver_id = $1", [`txbench-drv-${w + 1}`]));
  });
}

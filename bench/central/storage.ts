/**
 * Storage stage (issue 12 part 4): database bytes per applied event, with and without the
 * retention prune. Heartbeats from `chargePoints` chargers go through Central's real apply path
 * (`applyBusRecord`: charge point lookup, message id recorded, last_seen touched); every
 * `reserveEvery` events a driver reserves and cancels (two outbox commands, then marked published
 * as the outbox publisher would). A ManualClock spreads the events over `spanWindows` retention
 * windows of `windowHours`, so steady state is reached in seconds.
 *
 * Two fresh PostgreSQL schemas in the same run: "pruned" runs `pruneRound` every `pruneEvery`
 * events (the job at a simulated PRUNE_INTERVAL_SECONDS) then a plain VACUUM of the two tables,
 * which is what autovacuum does later in production and which makes the freed space reusable;
 * "baseline" gets the same VACUUM and no prune. Sizes are pg_total_relation_size (heap, indexes,
 * TOAST) of processed_messages and commands.
 */
import postgres from "postgres";
import { loadCentralConfig } from "../../central/config.ts";
import { createCentral, type Central } from "../../central/create-central.ts";
import { migrate } from "../../central/db/migrations.ts";
import type { Db } from "../../central/db/db.ts";
import { openPostgresDb } from "../../central/db/postgres-db.ts";
import { cancelByDriver, reserve } from "../../central/lifecycle/index.ts";
import { applyBusRecord } from "../../central/events/apply-bus-record.ts";
import { pruneRound } from "../../central/retention/prune-round.ts";
import { ManualClock } from "../../platform/clock.ts";
import { InProcessBus } from "../../platform/in-process-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { newId } from "../../protocol/index.ts";

export interface StorageOptions {
  databaseUrl: string;
  events: number;
  chargePoints: number;
  windowHours: number;
  spanWindows: number;
  pruneEvery: number;
  reserveEvery: number;
  workers: number;
}

export interface StorageSample {
  events: number;
  processedRows: number;
  commandRows: number;
  processedBytes: number;
  commandBytes: number;
}

export interface StorageRun {
  target: "pruned" | "baseline";
  samples: StorageSample[];
  pruneRoundMs: number[];
  applySeconds: number;
}

const TABLES = ["processed_messages", "commands"] as const;

async function sample(db: Db, events: number): Promise<StorageSample> {
  const [r] = await db.query<{ pr: number; cr: number; pb: string; cb: string }>(
    `SELECT (SELECT count(*)::int FROM processed_messages) AS pr, (SELECT count(*)::int FROM commands) AS cr,
            pg_total_relation_size('processed_messages')::text AS pb, pg_total_relation_size('commands')::text AS cb`,
  );
  return { events, processedRows: r!.pr, commandRows: r!.cr, processedBytes: Number(r!.pb), commandBytes: Number(r!.cb) };
}

async function one(target: StorageRun["target"], o: StorageOptions): Promise<StorageRun> {
  const schema = `storagebench_${target}_${Date.now().toString(36)}`;
  const db = await openPostgresDb({ url: o.databaseUrl, schema, maxConnections: o.workers + 2 });
  const admin = postgres(o.databaseUrl, { max: 1, onnotice: () => {} });
  let central: Central | undefined;
  try {
    await migrate(db);
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    const start = new Date(clock.now());
    await db.query(
      `INSERT INTO charge_points (cp_id, status, online, secret_hash, created_at)
       SELECT 'storage-cp-' || lpad(i::text, 5, '0'), 'available', true, 'pbkdf2-sha256$1$x$x', $1 FROM generate_series(1, $2) i`,
      [start, o.chargePoints],
    );
    await db.query(`INSERT INTO drivers (driver_id, name, created_at) VALUES ('storage-driver', 'bench', $1)`, [start]);
    const hours = String(o.windowHours);
    const config = loadCentralConfig({ OPERATOR_TOKEN: "storagebench-operator-0123456789", TOKEN_SECRET: "x".repeat(32), PROCESSED_RETENTION_HOURS: hours, COMMAND_RETENTION_HOURS: hours });
    // Not started: the bench drives the prune itself at simulated intervals, on the ManualClock.
    central = await createCentral({ config, bus: new InProcessBus({}), db, clock, log: createLogger("storagebench", "error") });
    const ctx = central.ctx;
    const stepMs = (o.spanWindows * o.windowHours * 3_600_000) / o.events;
    const samples: StorageSample[] = [];
    const pruneRoundMs: number[] = [];
    let applied = 0;
    let applyMs = 0;
    while (applied < o.events) {
      const chunk = Math.min(o.pruneEvery, o.events - applied);
      const t = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: o.workers }, async () => {
          for (let i = next++; i < chunk; i = next++) {
            const n = applied + i;
            const at = new Date(clock.now() + i * stepMs).toISOString();
            const cpId = `storage-cp-${String((n % o.chargePoints) + 1).padStart(5, "0")}`;
            const value = JSON.stringify({ kind: "up", cpId, type: "heartbeat", payload: { id: newId("msg"), ts: at }, gatewayId: "storagebench", receivedAt: at });
            const outcome = await applyBusRecord(ctx, value);
            if (outcome.result !== "applied") throw new Error(`heartbeat not applied: ${outcome.result}`);
          }
        }),
      );
      for (let k = 0; k < Math.floor(chunk / o.reserveEvery); k++) {
        const r = await reserve(ctx, { driverId: "storage-driver" });
        await cancelByDriver(ctx, "storage-driver", r.reservation_id);
      }
      // Stands in for the outbox publisher (not running here): what it marks once Kafka took them.
      await db.query("UPDATE commands SET published_at = $1 WHERE published_at IS NULL", [new Date(clock.now())]);
      applyMs += performance.now() - t;
      applied += chunk;
      clock.advance(chunk * stepMs);
      if (target === "pruned") {
        const p = performance.now();
        await pruneRound(ctx, { pause: async () => {} });
        pruneRoundMs.push(performance.now() - p);
      }
      for (const table of TABLES) await db.query(`VACUUM ${schema}.${table}`);
      samples.push(await sample(db, applied));
    }
    return { target, samples, pruneRoundMs, applySeconds: applyMs / 1000 };
  } finally {
    await central?.stop();
    await db.close();
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

export async function runStorage(o: StorageOptions): Promise<StorageRun[]> {
  return [await one("pruned", o), await one("baseline", o)];
}

/**
 * Central's event consumer draining a backlog of heartbeats from Kafka into PostgreSQL, the path
 * every charger message takes. The baseline, measured in the same run, is concurrency 1: one
 * record at a time, which is how the consumer ran before CENTRAL_CONSUMER_CONCURRENCY. Each run
 * gets its own topic (fresh message ids, so nothing is a duplicate) and consumer group, on one
 * schema seeded with online charge points; runs alternate between concurrencies round by round.
 */
import postgres from "postgres";
import { loadCentralConfig } from "../../central/config.ts";
import { createCentral } from "../../central/create-central.ts";
import { migrate } from "../../central/db/migrations.ts";
import { openPostgresDb } from "../../central/db/postgres-db.ts";
import { createKafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { createLogger } from "../../platform/logger.ts";
import { DEFAULT_TOPICS } from "../../protocol/index.ts";
import { sleep } from "../gateway/kit.ts";

export interface DrainOptions {
  brokers: string[];
  databaseUrl: string;
  events: number;
  chargePoints: number;
  partitions: number;
  concurrencies: number[];
  rounds: number;
}

export interface DrainRun {
  concurrency: number;
  round: number;
  /** Events applied per second, from the first applied event to the last. */
  perSecond: number;
  /** From Central's start to the first applied event: joining the group, the first fetch. */
  startMs: number;
}

const quiet = createLogger("drain-bench", "error");

export async function runDrain(o: DrainOptions): Promise<DrainRun[]> {
  const run = Date.now().toString(36);
  const schema = `cb_drain_${run}`;
  const db = await openPostgresDb({ url: o.databaseUrl, schema, maxConnections: 10 });
  const runs: DrainRun[] = [];
  try {
    await migrate(db);
    await db.query(
      `INSERT INTO charge_points (cp_id, status, online, secret_hash, created_at)
       SELECT 'drain-cp-' || lpad(i::text, 5, '0'), 'available', true, 'pbkdf2-sha256$1$x$x', now() FROM generate_series(1, $1) i`,
      [o.chargePoints],
    );
    const producer = createKafkaBus({ brokers: o.brokers, clientId: `drain-${run}-producer`, partitions: o.partitions, logger: quiet });
    try {
      for (let round = 1; round <= o.rounds; round++) {
        // Alternate the order so that no concurrency always gets the quieter moment.
        const order = round % 2 === 1 ? o.concurrencies : [...o.concurrencies].reverse();
        for (const concurrency of order) {
          const topic = `drain-${run}-r${round}-c${concurrency}`;
          await fill(producer, topic, o.events, o.chargePoints);
          const r = await drainOnce({ ...o, db, topic, concurrency, groupId: `${topic}-central` });
          runs.push({ ...r, concurrency, round });
          console.log(`  round ${round}: concurrency ${concurrency}: ${Math.round(r.perSecond)} events/s (first event after ${Math.round(r.startMs)} ms)`);
        }
      }
    } finally {
      await producer.close();
    }
  } finally {
    await db.close();
    const admin = postgres(o.databaseUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
  return runs;
}

/** `events` heartbeats spread over the charge points, as a gateway would forward them. */
async function fill(bus: ReturnType<typeof createKafkaBus>, topic: string, events: number, chargePoints: number): Promise<void> {
  const batch = 500;
  for (let from = 0; from < events; from += batch) {
    const records = [];
    for (let n = from; n < Math.min(events, from + batch); n++) {
      const cpId = `drain-cp-${String((n % chargePoints) + 1).padStart(5, "0")}`;
      const ts = new Date().toISOString();
      const value = { kind: "up", cpId, type: "heartbeat", payload: { id: `${topic}-${n}`, ts }, gatewayId: "drain", receivedAt: ts };
      records.push({ key: cpId, value: JSON.stringify(value) });
    }
    await bus.publish(topic, records);
  }
}

async function drainOnce(
  o: DrainOptions & { db: Awaited<ReturnType<typeof openPostgresDb>>; topic: string; concurrency: number; groupId: string },
): Promise<{ perSecond: number; startMs: number }> {
  const bus = createKafkaBus({ brokers: o.brokers, clientId: `${o.groupId}`, partitions: o.partitions, logger: quiet });
  const config = loadCentralConfig({
    HTTP_PORT: "0",
    OPERATOR_TOKEN: "drain-bench-operator-token-0123",
    TOKEN_SECRET: "x".repeat(32),
    CENTRAL_GROUP_ID: o.groupId,
    CENTRAL_CONSUMER_CONCURRENCY: String(o.concurrency),
  });
  const central = await createCentral({ config, bus, db: o.db, log: quiet, topics: { ...DEFAULT_TOPICS, events: o.topic } });
  const applied = async () =>
    Number((await o.db.query<{ n: number }>("SELECT count(*)::int AS n FROM processed_messages WHERE message_id LIKE $1", [`${o.topic}-%`]))[0]!.n);
  const started = performance.now();
  await central.start({ listen: false });
  try {
    let first: { at: number; count: number } | undefined;
    for (;;) {
      const count = await applied();
      const at = performance.now();
      if (!first && count > 0) first = { at, count };
      if (count >= o.events) {
        if (!first || at === first.at) throw new Error("Backlog drained between two polls; use more events");
        return { perSecond: (count - first.count) / ((at - first.at) / 1000), startMs: first.at - started };
      }
      if (at - started > 10 * 60_000) throw new Error(`Drain stalled at ${count}/${o.events}`);
      await sleep(50);
    }
  } finally {
    await central.stop();
    await bus.close();
  }
}

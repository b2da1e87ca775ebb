/**
 * What bench/central/reserve-e2e.ts reads back after its window: each reservation's timeline from
 * the database, Central's applied-events counter, and its consumer group's lag on Kafka.
 */
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { percentile, sleep } from "../gateway/kit.ts";

export interface Spread {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? Number.NaN };
}

/** Polls the database (not the API, which shares Central's event loop) until every reservation started. */
export async function waitUntilCharging(url: string, ids: string[], timeoutMs: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM reservations WHERE reservation_id = ANY(${ids}) AND started_at IS NOT NULL`;
      if ((row?.n ?? 0) >= ids.length) return;
      await sleep(500);
    }
  } finally {
    await sql.end();
  }
}

/** Records of `topic` the group has not committed yet. */
export async function consumerLag(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "e2ebench-admin", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.reduce((lag, p) => {
      const at = Number(committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
      return lag + Number(p.high) - (at < 0 ? Number(p.low) : at);
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

/** Central's events_applied counter, summed over event types. */
export async function eventsApplied(apiUrl: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^chargebridge_central_events_applied_total\{[^}]*\} (\S+)$/gm)) sum += Number(m[1]);
  return sum;
}

/** Each reservation's path, from the database (all timestamps from this host's clock). */
export async function timelines(url: string, ids: string[], seen: Map<string, { receivedAt: number; onKafka: number }>) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ id: string; created: Date; started: Date | null; cmd_created: Date | null; cmd_published: Date | null; applied: Date | null }[]>`
      SELECT r.reservation_id AS id, r.created_at AS created, r.started_at AS started, c.created_at AS cmd_created, c.published_at AS cmd_published,
             (SELECT min(p.processed_at) FROM processed_messages p
               WHERE p.cp_id = r.cp_id AND p.type = 'charging_started' AND p.processed_at >= r.created_at) AS applied
        FROM reservations r
        LEFT JOIN commands c ON c.type = 'start' AND c.payload->>'reservationId' = r.reservation_id
       WHERE r.reservation_id = ANY(${ids})`;
    const ms = (a: Date | null, b: Date | null) => (a && b ? b.getTime() - a.getTime() : Number.NaN);
    return {
      reserveToCharging: spread(rows.map((r) => ms(r.created, r.applied))),
      reserveToStartCommand: spread(rows.map((r) => ms(r.created, r.cmd_created))),
      outbox: spread(rows.map((r) => ms(r.cmd_created, r.cmd_published))),
      commandToCharger: spread(rows.map((r) => ms(r.cmd_published, r.started))),
      chargerToCentral: spread(rows.map((r) => ms(r.started, r.applied))),
      chargerToGateway: spread(rows.map((r) => (seen.get(r.id)?.receivedAt ?? Number.NaN) - (r.started?.getTime() ?? Number.NaN))),
      gatewayToKafka: spread(rows.map((r) => (seen.get(r.id)?.onKafka ?? Number.NaN) - (seen.get(r.id)?.receivedAt ?? Number.NaN))),
      kafkaToApplied: spread(rows.map((r) => (r.applied?.getTime() ?? Number.NaN) - (seen.get(r.id)?.onKafka ?? Number.NaN))),
    };
  } finally {
    await sql.end();
  }
}

/**
 * Reserve → `charging` through the whole production path: Central and a gateway as child processes
 * (as tests/e2e/production.e2e.test.ts runs them) on Kafka and a fresh PostgreSQL database, with
 * `chargers` firmware-sim chargers connected. Drivers arrive at a steady rate; each POSTs a
 * reservation (any charge point) and POSTs start as soon as it has the id; a sample of them polls
 * GET until it reads `charging`, as a client-side cross-check. Afterwards the database gives each
 * reservation's timeline, all stamped on this host:
 *
 *   reservations.created_at        Central, before the reserve transaction
 *   commands.created_at / published_at of its `start` command   (outbox: committed → on Kafka)
 *   reservations.started_at        the charger's `ts` on charging_started (same host clock here)
 *   processed_messages.processed_at  Central applied that charging_started: the reservation is `charging`
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { openDb } from "../../central/db/open-db.ts";
import { provisionChargers, simCpIds, startFleet, type ChargerCredentials } from "../../firmware-sim/index.ts";
import { createKafkaBus } from "../../platform/kafka/kafka-bus.ts";
import { hashSecret } from "../../platform/password-hash.ts";
import { createTestDatabase } from "../../tests/support/postgres-database.ts";
import { startProcess, type RunningProcess } from "../../tests/support/processes.ts";
import { waitFor } from "../../tests/support/wait.ts";
import { topicRecordCount } from "../gateway/kafka-ceiling.ts";
import { cpuMeter, freePort, sleep } from "../gateway/kit.ts";
import { consumerLag, eventsApplied, spread, timelines, waitUntilCharging, type Spread } from "./measure.ts";

export interface E2eOptions {
  brokers: string;
  chargers: number;
  /** Reservations per second, for `seconds`. */
  rate: number;
  seconds: number;
  /** "seed": charge points inserted with one cheap hash; "api": provisionChargers (100k-iteration PBKDF2 each, slow). */
  provision: "seed" | "api";
  pollMs: number;
  /** Every how many-th driver polls GET until `charging` (the client-side cross-check). */
  pollEvery: number;
}

export interface E2eResult {
  reservations: number;
  reachedCharging: number;
  /** Central's clock: reserve → charging_started applied (the headline). */
  reserveToCharging: Spread;
  /** Client: POST /v1/reservations response → first GET reading `charging` (includes the poll interval). */
  clientObserved: Spread;
  /** Breakdown along the path. */
  reserveToStartCommand: Spread;
  outbox: Spread;
  commandToCharger: Spread;
  chargerToCentral: Spread;
  /** The upstream leg split by an observer on the events topic (gateway's receivedAt, record timestamp). */
  chargerToGateway: Spread;
  gatewayToKafka: Spread;
  kafkaToApplied: Spread;
  setupSeconds: number;
  /** Events Central applied per second while the fleet connected (boot, status, presence of every charger). */
  connectBurst: { events: number; seconds: number; perSecond: number };
  /** % of one core over the measurement window, with each event loop's run-queue wait. */
  cpu: Record<string, number>;
  /**
   * Central's event consumer over the window: records arriving on the events topic per second,
   * events applied per second, and records not yet consumed when the window closed. Arrivals
   * above the apply rate mean the consumer is saturated and every latency above includes its backlog.
   */
  consumer: { offeredPerSecond: number; appliedPerSecond: number; lagAtEnd: number };
}

const OPERATOR = "e2ebench-operator-token-0123456789";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const PASSWORD = "e2ebench-secret-not-for-production";

async function api<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function runE2e(o: E2eOptions): Promise<E2eResult> {
  const setupStarted = performance.now();
  const run = Date.now().toString(36);
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const database = await createTestDatabase("e2ebench");
    cleanup.push(() => database.drop());
    const cpIds = simCpIds(o.chargers, `e2e-${run}-cp`);
    let chargers: ChargerCredentials[] = cpIds.map((cpId) => ({ cpId, password: PASSWORD }));
    if (o.provision === "seed") {
      // Insert charge points before Central starts; it publishes their hashes to the gateways at start.
      const db = await openDb({ databaseUrl: database.url });
      const hash = await hashSecret(PASSWORD, 1_000);
      await db.query(
        "INSERT INTO charge_points (cp_id, secret_hash, created_at) SELECT unnest($1::text[]), $2, now()",
        [cpIds, hash],
      );
      await db.close();
    }
    const dataDir = await mkdtemp(join(tmpdir(), "cb-e2ebench-"));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const topics = {
      KAFKA_TOPIC_EVENTS: `e2ebench-${run}.events`,
      KAFKA_TOPIC_COMMANDS: `e2ebench-${run}.commands`,
      KAFKA_TOPIC_DLQ: `e2ebench-${run}.dlq`,
      KAFKA_TOPIC_CREDENTIALS: `e2ebench-${run}.credentials`,
    };
    const [httpPort, mqttPort, gatewayHttpPort] = [await freePort(), await freePort(), await freePort()];
    const apiUrl = `http://127.0.0.1:${httpPort}`;
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const procs: RunningProcess[] = [];
    cleanup.push(() => Promise.all(procs.map((p) => p.stop())));
    const central = startProcess(
      "central/main.ts",
      {
        ...topics,
        KAFKA_BROKERS: o.brokers,
        DATABASE_URL: database.url,
        HTTP_PORT: String(httpPort),
        HTTP_HOST: "127.0.0.1",
        OPERATOR_TOKEN: OPERATOR,
        CENTRAL_GROUP_ID: `e2ebench-${run}-central`,
        // One address registers every driver and each driver polls: the per-driver limit would refuse the bench.
        DRIVER_RATE_PER_MINUTE: "0",
        LOG_LEVEL: "warn",
      },
      "central",
    );
    procs.push(central);
    const gateway = startProcess(
      "gateway/main.ts",
      {
        ...topics,
        KAFKA_BROKERS: o.brokers,
        MQTT_PORT: String(mqttPort),
        OCPP_PORT: "0",
        MQTT_HOST: "127.0.0.1",
        GATEWAY_HTTP_PORT: String(gatewayHttpPort),
        DATA_DIR: dataDir,
        GATEWAY_ID: `e2ebench-${run}`,
        // A thousand chargers connect from one address within seconds.
        MQTT_CONNECT_RATE_PER_MINUTE: "0",
        LOG_LEVEL: "warn",
      },
      "gateway",
    );
    procs.push(gateway);
    await waitFor(() => fetch(`${apiUrl}/readyz`).then((r) => r.ok, () => false), { timeoutMs: 120_000, intervalMs: 250, what: "Central /readyz" });
    await waitFor(() => fetch(`http://127.0.0.1:${gatewayHttpPort}/readyz`).then((r) => r.ok, () => false), { timeoutMs: 120_000, intervalMs: 250, what: "gateway /readyz" });
    if (o.provision === "api") chargers = await provisionChargers({ apiUrl, operatorToken: OPERATOR, cpIds, concurrency: 4 });
    // The gateway learns the hashes from the credentials topic; the last charger proves they arrived.
    const last = chargers[chargers.length - 1]!;
    await waitFor(() => tryConnect(mqttUrl, last), { timeoutMs: 60_000, intervalMs: 500, what: "gateway to know the chargers" });
    // Drivers register before the fleet connects: 300 registrations in a burst right before the window
    // kept Central's event loop busy into it and put a 1.4 s tail on the first reservations.
    const total = Math.floor(o.rate * o.seconds);
    const drivers: string[] = [];
    for (let i = 0; i < total; i++) drivers.push((await api<{ token: string }>(apiUrl, "", "POST", "/v1/drivers", { name: `bench driver ${i}` })).body.token);
    const applied0 = await eventsApplied(apiUrl);
    const fleetStarted = performance.now();
    const fleet = await startFleet({ url: mqttUrl, chargers, meterMs: 10_000, heartbeatMs: 30_000, concurrency: 100 });
    cleanup.push(() => fleet.stop());
    await waitFor(
      async () => {
        const list = await api<{ online: boolean; status: string }[]>(apiUrl, OPERATOR, "GET", "/v1/charge-points");
        return list.body.filter((cp) => cp.online && cp.status === "available").length === o.chargers;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: "every charger online and available in Central" },
    );
    const burstSeconds = (performance.now() - fleetStarted) / 1000;
    const burstEvents = (await eventsApplied(apiUrl)) - applied0;

    // An observer on the events topic times each charging_started at the gateway and on Kafka.
    const seen = new Map<string, { receivedAt: number; onKafka: number }>();
    const observer = createKafkaBus({ brokers: o.brokers.split(","), clientId: `e2ebench-${run}-observer`, logger: quiet });
    cleanup.push(() => observer.close());
    await observer.subscribe(topics.KAFKA_TOPIC_EVENTS, { groupId: `e2ebench-${run}-observer` }, async (rec) => {
      if (!rec.value.includes('"charging_started"')) return;
      const e = JSON.parse(rec.value) as { type: string; receivedAt: string; payload: { reservationId: string } };
      if (e.type === "charging_started") seen.set(e.payload.reservationId, { receivedAt: Date.parse(e.receivedAt), onKafka: rec.timestamp });
    });

    // Let the connect burst settle: anything still queued would be charged to the first reservations.
    await sleep(3_000);
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    // Steady arrivals: driver i starts at i / rate seconds, whatever happened to earlier ones.
    const observed: number[] = [];
    const ids: string[] = [];
    const brokers = o.brokers.split(",");
    const offered0 = await topicRecordCount(brokers, topics.KAFKA_TOPIC_EVENTS);
    const appliedAtStart = await eventsApplied(apiUrl);
    const started = performance.now();
    const cpu = cpuMeter({ central: central.child.pid, gateway: gateway.child.pid, bench: process.pid });
    await Promise.all(
      drivers.map(async (token, i) => {
        await sleep(started + (i * 1000) / o.rate - performance.now());
        const r = await api<{ reservationId: string }>(apiUrl, token, "POST", "/v1/reservations", {});
        if (r.status !== 201) return;
        const reserved = performance.now();
        ids.push(r.body.reservationId);
        await api(apiUrl, token, "POST", `/v1/reservations/${r.body.reservationId}/start`);
        // Only a sample polls: every driver polling at 50 ms turned a slow consumer into a polling
        // storm on Central's event loop, which slowed the consumer further (see docs/benchmarks.md).
        if (i % o.pollEvery !== 0) return;
        const deadline = reserved + 30_000;
        while (performance.now() < deadline) {
          const got = await api<{ status: string }>(apiUrl, token, "GET", `/v1/reservations/${r.body.reservationId}`);
          if (got.body.status === "charging") return void observed.push(performance.now() - reserved);
          await sleep(o.pollMs);
        }
      }),
    );
    // Then wait, on the database rather than the API, for the rest to reach charging (or 30 s).
    await waitUntilCharging(database.url, ids, 30_000);
    const windowSeconds = (performance.now() - started) / 1000;
    const cpuShares = cpu();
    const consumer = {
      offeredPerSecond: ((await topicRecordCount(brokers, topics.KAFKA_TOPIC_EVENTS)) - offered0) / windowSeconds,
      appliedPerSecond: ((await eventsApplied(apiUrl)) - appliedAtStart) / windowSeconds,
      lagAtEnd: await consumerLag(brokers, `e2ebench-${run}-central`, topics.KAFKA_TOPIC_EVENTS),
    };
    return {
      ...(await timelines(database.url, ids, seen)),
      consumer,
      reservations: ids.length,
      reachedCharging: observed.length,
      clientObserved: spread(observed),
      setupSeconds,
      connectBurst: { events: burstEvents, seconds: burstSeconds, perSecond: burstEvents / burstSeconds },
      cpu: cpuShares,
    };
  } finally {
    for (const f of cleanup.reverse()) await f().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
  }
}

/** One MQTT connect with a charger's credentials: true once the gateway accepts them. */
function tryConnect(url: string, { cpId, password }: ChargerCredentials): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const client = mqtt.connect(url, { clientId: cpId, username: cpId, password, clean: true, reconnectPeriod: 0, connectTimeout: 5_000 });
    const finish = (ok: boolean) => (client.end(true), resolve(ok));
    client.once("connect", () => finish(true));
    client.once("error", () => finish(false));
    client.once("close", () => finish(false));
  });
}

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionChargers, startFleet, type Fleet } from "../../firmware-sim/index.ts";
import { apiClient, type ApiCall } from "../support/api-client.ts";
import { ensureKafka } from "../support/kafka.ts";
import { createTestDatabase } from "../support/postgres-database.ts";
import { startProcess, type RunningProcess } from "../support/processes.ts";
import { runTopics } from "../support/run-topics.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Two Central instances in one consumer group on real Kafka and PostgreSQL. One is SIGKILLed
 * mid-flow; the other takes over its partitions, finishes the flows the dead one started, and
 * rolls back the reservations nobody started. Nothing is left stuck in `reserved`.
 */
// Longer than the consumer-group session timeout plus the outbox lease of the killed instance
// (5 s, 30 s before issue 10): chargers expire reservations by their own clock too, so a start
// must arrive in time.
const TTL_SECONDS = 40;
const OPERATOR = "failover-operator-token-0123";
const CPS = Array.from({ length: 6 }, (_, i) => `fo-cp-${i}`);

describe("Central failover between two instances", { timeout: 240_000 }, () => {
  const run = Date.now().toString(36);
  const procs: RunningProcess[] = [];
  let fleet: Fleet;
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let a: RunningProcess;
  let apiA: ApiCall;
  let apiB: ApiCall;

  beforeAll(async () => {
    const brokers = (await ensureKafka()).join(",");
    database = await createTestDatabase("failover");
    dataDir = await mkdtemp(join(tmpdir(), "cb-failover-"));
    const topics = runTopics(`fo-${run}`);
    const centralEnv = (name: string) => ({
      ...topics,
      KAFKA_BROKERS: brokers,
      DATABASE_URL: database.url,
      HTTP_PORT: "0",
      OPERATOR_TOKEN: OPERATOR,
      // Tests poll the API far faster than a driver app; the limiter has its own tests.
      DRIVER_RATE_PER_MINUTE: "0",
      RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
      CENTRAL_GROUP_ID: `fo-${run}-central`,
      INSTANCE_ID: name,
    });
    a = startProcess("central/main.ts", centralEnv("central-a"), "central-a");
    const b = startProcess("central/main.ts", centralEnv("central-b"), "central-b");
    const gw = startProcess(
      "gateway/main.ts",
      { ...topics, KAFKA_BROKERS: brokers, MQTT_PORT: "0", OCPP_PORT: "0", GATEWAY_HTTP_PORT: "0", DATA_DIR: dataDir, GATEWAY_ID: `fo-${run}` },
      "gateway",
    );
    procs.push(a, b, gw);
    apiA = apiClient((await a.waitForLog((l) => l.msg === "Central is running", 120_000)).apiUrl as string);
    apiB = apiClient((await b.waitForLog((l) => l.msg === "Central is running", 120_000)).apiUrl as string);
    const mqttUrl = (await gw.waitForLog((l) => l.msg === "Gateway is running", 120_000)).mqttUrl as string;
    const chargers = await provisionChargers({ apiUrl: (await a.waitForLog((l) => l.msg === "Central is running")).apiUrl as string, operatorToken: OPERATOR, cpIds: CPS });
    fleet = await startFleet({ url: mqttUrl, chargers, meterMs: 300, heartbeatMs: 5_000, reconnectMs: 500 });
    await waitFor(
      async () => ((await apiB("GET", "/v1/charge-points", OPERATOR)).body as { online: boolean }[]).filter((c) => c.online).length === CPS.length,
      { timeoutMs: 60_000, what: "all chargers online" },
    );
    // Two Centrals, a gateway and a fleet start one after another, each step with its own deadline.
  }, 300_000);

  afterAll(async () => {
    await fleet?.stop();
    for (const p of procs) await p.kill();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("finishes every flow and leaves nothing reserved after one instance is killed", async () => {
    const { body: d } = await apiA("POST", "/v1/drivers", undefined, { name: "Failover" });
    // Reservations through both instances; half of them will be started, half abandoned.
    const reservations: string[] = [];
    for (const [i, cpId] of CPS.entries()) {
      const api = i % 2 === 0 ? apiA : apiB;
      const r = await api("POST", "/v1/reservations", d.token, { cpId });
      expect(r.status).toBe(201);
      reservations.push(r.body.reservationId);
    }
    const started = reservations.slice(0, 3);
    const abandoned = reservations.slice(3);
    await apiA("POST", `/v1/reservations/${started[0]}/start`, d.token);

    await a.kill(); // mid-flow: its partitions, outbox leases and sweeps are orphaned

    for (const id of started.slice(1)) expect((await apiB("POST", `/v1/reservations/${id}/start`, d.token)).status).toBe(202);
    for (const id of started) {
      await waitFor(async () => (await apiB("GET", `/v1/reservations/${id}`, d.token)).body.status === "charging", {
        timeoutMs: 90_000,
        what: `reservation ${id} charging via the surviving instance`,
      });
    }
    for (const id of abandoned) {
      await waitFor(async () => (await apiB("GET", `/v1/reservations/${id}`, d.token)).body.status === "expired", {
        timeoutMs: (TTL_SECONDS + 30) * 1000,
        what: `reservation ${id} rolled back by the surviving instance`,
      });
    }
    const cps = (await apiB("GET", "/v1/charge-points", OPERATOR)).body as { cpId: string; status: string }[];
    expect(cps.filter((c) => c.status === "reserved")).toEqual([]);
    expect(cps.filter((c) => c.status === "charging")).toHaveLength(3);
  });
});
